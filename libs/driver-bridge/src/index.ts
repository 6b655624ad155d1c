export { DriverBridgeModule } from './driver-bridge.module';

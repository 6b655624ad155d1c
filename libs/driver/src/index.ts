export { DriverModule } from './driver.module';

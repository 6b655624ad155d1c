export { ResultGatewayModule } from './result-gateway.module';

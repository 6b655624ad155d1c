export { ResultGatewayModule } from './result-gateway.module';
export type { ResultStore, ResultWriter } from './store/result-store';
export { FolderResultStore } from './store/folder-result-store';
export { CsvResultSink, csvField } from './store/csv-result-sink';
export { csvRowBatches, readCsvPage, type CsvPageRequest } from './store/csv-page-reader';
export { persistedReadFailure } from './http/persisted-read-failure';

export { ResultModule } from './result.module';
export { ResultAccessModule } from './result-access.module';
export { ResultsetPages } from './http/resultset-pages';
export { ResultDeletion } from './application/result-deletion';
export { persistedReadFailure } from './http/persisted-read-failure';
export type { ResultStore, ResultWriter } from './store/result-store';
export { FolderResultStore } from './store/folder-result-store';
export { CsvResultSink, csvField } from './store/csv-result-sink';
export { readCsvPage, type CsvPageRequest } from './store/csv-page-reader';

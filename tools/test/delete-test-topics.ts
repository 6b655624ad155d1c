// After each integration and end-to-end test file: its Kafka topics and consumer groups go
// (libs/testing's deleteIssuedTopics: only the names this file's prefixes made).
import { deleteIssuedTopics } from '@quarry/testing';

afterAll(async () => {
  await deleteIssuedTopics().catch((error: Error) => console.warn(`could not delete this file's test topics: ${error.message}`));
}, 60_000);

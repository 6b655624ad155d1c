/** What tools/test/run-tests.mjs hands the tests about the running stack. */
export function testEnv() {
  const adminUrl = process.env['QUARRY_TEST_ADMIN_URL'];
  const kafkaBrokers = process.env['KAFKA_BROKERS'];
  if (!adminUrl || !kafkaBrokers) {
    throw new Error('integration tests need QUARRY_TEST_ADMIN_URL and KAFKA_BROKERS: run them with `npm test`');
  }
  return { adminUrl, kafkaBrokers: kafkaBrokers.split(',') };
}

// testTimeout is a global Jest option; integration and end-to-end projects set theirs here.
// Tests wait for conditions with their own deadlines; this only bounds a hung test.
jest.setTimeout(Number(process.env.QUARRY_TEST_TIMEOUT_MS ?? 240_000));

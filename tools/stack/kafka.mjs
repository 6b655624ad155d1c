// Local Kafka for development and tests: fetch the jars, start/stop a single-node KRaft broker.
//
//   node tools/stack/kafka.mjs fetch    download the broker jars into the cache (once)
//   node tools/stack/kafka.mjs start    start a detached broker on 127.0.0.1:9092 (controller 9093)
//   node tools/stack/kafka.mjs stop     stop the broker started by `start`
//   node tools/stack/kafka.mjs status   exit 0 when 127.0.0.1:9092 answers
import { parseArgs } from 'node:util';
import { isMainModule, logToStderr, parsePort, runCli } from './lib/cli.mjs';
import { kafkaAnswers } from './kafka/admin.mjs';
import { brokerFiles, defaultKafkaDataDir, runningBrokerPid, startKafka, stopKafkaByPidFile } from './kafka/broker.mjs';
import { ensureKafkaJars, kafkaVersion } from './kafka/jars.mjs';

export { kafkaVersion, ensureKafkaJars, startKafka, stopKafkaByPidFile, kafkaAnswers, defaultKafkaDataDir };

const usage = 'usage: node tools/stack/kafka.mjs fetch|start|stop|status [--port 9092] [--controller-port 9093] [--data-dir DIR]';

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '9092' },
      'controller-port': { type: 'string', default: '9093' },
      'data-dir': { type: 'string', default: defaultKafkaDataDir },
    },
  });
  const port = parsePort(values.port, '--port');
  const controllerPort = parsePort(values['controller-port'], '--controller-port');
  const dataDir = values['data-dir'];
  const brokers = `127.0.0.1:${port}`;

  switch (positionals[0]) {
    case 'fetch': {
      const startedAt = Date.now();
      const libsDir = await ensureKafkaJars({ log: logToStderr });
      console.log(`Kafka ${kafkaVersion()} jars in ${libsDir} (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
      return 0;
    }
    case 'start': {
      if (await kafkaAnswers(brokers)) {
        console.log(`Kafka already answers on ${brokers}; nothing started.`);
        return 0;
      }
      const startedAt = Date.now();
      const broker = await startKafka({ port, controllerPort, dataDir, detached: true, log: logToStderr });
      const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
      console.log(`Kafka ${kafkaVersion()} running on ${broker.brokers} (pid ${broker.pid}, ready in ${seconds} s)`);
      return 0;
    }
    case 'stop': {
      const stopped = await stopKafkaByPidFile(dataDir);
      console.log(stopped ? 'Kafka stopped.' : `No Kafka broker started from ${dataDir} is running.`);
      return 0;
    }
    case 'status': {
      const pid = runningBrokerPid(brokerFiles(dataDir).pidFile);
      const answers = await kafkaAnswers(brokers);
      const owner = pid === undefined ? 'not started by this tool' : `pid ${pid}, started by this tool`;
      console.log(`Kafka on ${brokers}: ${answers ? 'answering' : 'not answering'} (${owner})`);
      return answers ? 0 : 1;
    }
    default:
      console.error(usage);
      return 2;
  }
}

if (isMainModule(import.meta.url)) runCli(main);

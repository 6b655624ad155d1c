// Text of the files a single-node KRaft broker is started with.

/** server.properties for a combined broker+controller node tuned for a developer machine. */
export function brokerProperties({ port, controllerPort, dataDir, partitions }) {
  return formatProperties({
    // Single-node KRaft: this process is both the broker and the only controller.
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': dataDir,

    // One node cannot replicate: every internal topic gets a single replica.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'min.insync.replicas': 1,

    // Tests join consumer groups constantly; do not make them wait for stragglers.
    'group.initial.rebalance.delay.ms': 0,
    'num.partitions': partitions,
    // Topics are created explicitly by the application; a typo must not silently create one.
    'auto.create.topics.enable': false,

    // Keep a local broker light: few threads, small internal topics, small buffers and indexes.
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    'offsets.topic.num.partitions': 6,
    'transaction.state.log.num.partitions': 6,
    'log.index.size.max.bytes': 1024 * 1024,
    'auto.leader.rebalance.enable': false,
    // The active controller appends a no-op record to the metadata log every 500 ms by default,
    // so that its readers see it alive: on an idle single node that is most of the broker's CPU
    // (measured: 4.4% of a core idle with the default, 2.0% without). Every 10 s is plenty here.
    'metadata.max.idle.interval.ms': 10_000,
  });
}

/** log4j2 configuration: everything to a size-capped file, nothing to stdout. */
export function log4j2Properties({ logFile }) {
  const file = escapeValue(logFile);
  return formatProperties({
    status: 'warn',
    name: 'quarry-kafka',
    // The file appender flushes every line, so log4j needs no shutdown hook (which warns when
    // Kafka's own shutdown hooks log after the JVM started exiting).
    shutdownHook: 'disable',
    'appender.file.type': 'RollingFile',
    'appender.file.name': 'file',
    'appender.file.fileName': file,
    'appender.file.filePattern': `${file}.%i`,
    'appender.file.layout.type': 'PatternLayout',
    'appender.file.layout.pattern': '[%d] %p %m (%c)%n',
    'appender.file.policies.type': 'Policies',
    'appender.file.policies.size.type': 'SizeBasedTriggeringPolicy',
    'appender.file.policies.size.size': '20MB',
    'appender.file.strategy.type': 'DefaultRolloverStrategy',
    'appender.file.strategy.max': 2,
    'rootLogger.level': 'warn',
    'rootLogger.appenderRef.file.ref': 'file',
    // Broker lifecycle ("started", "shut down") is INFO under `kafka`; the rest stays at WARN.
    'logger.kafka.name': 'kafka',
    'logger.kafka.level': 'info',
    'logger.stateChange.name': 'state.change.logger',
    'logger.stateChange.level': 'warn',
    'logger.request.name': 'kafka.request.logger',
    'logger.request.level': 'warn',
  });
}

function formatProperties(entries) {
  return `${Object.entries(entries)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

// Backslash is the escape character in .properties files.
function escapeValue(value) {
  return String(value).replaceAll('\\', '\\\\');
}

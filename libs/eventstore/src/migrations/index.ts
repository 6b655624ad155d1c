import { EventStore1764000000000 } from './1764000000000-event-store';
import { ProjectionCheckpoints1764000000001 } from './1764000000001-projection-checkpoints';
import { EventWriters1764000000002 } from './1764000000002-event-writers';
import { WriterFence1764000000003 } from './1764000000003-writer-fence';
import { ProjectionBatchExpect1764000000400 } from './1764000000400-projection-batch-expect';

export const EVENT_STORE_MIGRATIONS = [EventStore1764000000000, ProjectionCheckpoints1764000000001, EventWriters1764000000002, WriterFence1764000000003, ProjectionBatchExpect1764000000400];

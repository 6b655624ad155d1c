import { EventStore1764000000000 } from './1764000000000-event-store';
import { ProjectionCheckpoints1764000000001 } from './1764000000001-projection-checkpoints';

export const EVENT_STORE_MIGRATIONS = [EventStore1764000000000, ProjectionCheckpoints1764000000001];

import { mainFor } from '@quarry/node-runtime';

// The query service alone in its own process (the microservices shape).
mainFor(() => ['query']);

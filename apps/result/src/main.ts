import { mainFor } from '@quarry/node-runtime';

// The result service alone in its own process (the microservices shape).
mainFor(() => ['result']);

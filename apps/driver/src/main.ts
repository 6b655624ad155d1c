import { mainFor } from '@quarry/node-runtime';

// The driver service alone in its own process (the microservices shape).
mainFor(() => ['driver']);

import { mainFor } from '@quarry/node-runtime';

// The gateway service alone in its own process (the microservices shape).
mainFor(() => ['gateway']);

import { mainFor } from '@quarry/node-runtime';

// The session service alone in its own process (the microservices shape).
mainFor(() => ['session']);

import type { ResourceType } from '@quarry/contracts';
import { requiredField } from '@quarry/platform';
import { resourceTypeOf } from '@quarry/session';

/** Lens resource types, any case: jar, file, archive. */
export function resourceTypeFrom(raw: unknown, required: boolean): ResourceType | undefined {
  if (!required && (raw === undefined || raw === '')) return undefined;
  return resourceTypeOf(requiredField(raw, 'type'));
}

import { LensError, RESOURCE_TYPES, type ResourceType } from '@quarry/contracts';
import { requiredField } from '@quarry/platform';

/** Lens resource types, any case: jar, file, archive. */
export function resourceTypeFrom(raw: unknown, required: boolean): ResourceType | undefined {
  if (!required && (raw === undefined || raw === '')) return undefined;
  const type = requiredField(raw, 'type').trim().toLowerCase();
  if (!(RESOURCE_TYPES as readonly string[]).includes(type)) {
    throw new LensError('INVALID_PARAMETER_VALUE', `type ${JSON.stringify(type.slice(0, 32))} is not one of ${RESOURCE_TYPES.join(', ')}`);
  }
  return type as ResourceType;
}

/**
 * Server-side defaults every session sees unless it sets its own value, as Lens's lens-site.xml
 * did. Clients read some right after opening (the Python client asks for the header flag).
 */
export const DEFAULT_SESSION_PARAMS: Readonly<Record<string, string>> = {
  'lens.query.output.write.header': 'false',
  'lens.query.enable.persistent.resultset': 'false',
  'lens.query.enable.persistent.resultset.indriver': 'false',
  'lens.query.output.compression.codec': 'none',
  'lens.query.result.output.file.format': 'csv',
};

/**
 * Form bodies as aiohttp's `request.post()` sees them, which decides the upload answers:
 * a part with a non-empty filename is a file field; other parts are text (no Content-Type or
 * text/*) or raw bytes; urlencoded (or untyped) bodies give text fields; any other content type
 * gives no fields at all (so a JSON body to /upload/image is a 400, as recorded in k_upload_loadimage).
 */

export interface FileField {
  kind: 'file';
  name: string;
  filename: string;
  contentType: string;
  data: Buffer;
}
export interface TextField {
  kind: 'text';
  name: string;
  value: string;
}
export interface BytesField {
  kind: 'bytes';
  name: string;
  value: Buffer;
}
export type FormField = FileField | TextField | BytesField;

/** First field of each name, like MultiDict.get. */
export class FormData {
  constructor(readonly fields: FormField[]) {}
  get(name: string): FormField | undefined {
    return this.fields.find((f) => f.name === name);
  }
  /** The text value of a field, or undefined when absent (non-text fields count as present but odd). */
  text(name: string): string | undefined {
    const f = this.get(name);
    if (!f) return undefined;
    if (f.kind === 'text') return f.value;
    if (f.kind === 'bytes') return f.value.toString('latin1');
    return undefined;
  }
}

export class MultipartError extends Error {}

/** Value of a header parameter such as `boundary=...` or `filename="..."` (quoted or token). */
function param(header: string, key: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const m = re.exec(header);
  if (!m) return undefined;
  if (m[1] !== undefined) return m[1].replace(/\\(.)/g, '$1');
  return m[2].trim();
}

function parseMultipart(body: Buffer, contentType: string): FormField[] {
  const boundary = param(contentType, 'boundary');
  if (!boundary) throw new MultipartError('boundary missed for Content-Type: multipart/form-data');
  const delim = Buffer.from(`--${boundary}`);
  const fields: FormField[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new MultipartError('Invalid boundary');
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') break; // closing delimiter
    // skip the CRLF after the delimiter
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd < 0) throw new MultipartError('malformed part headers');
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) throw new MultipartError('missing closing boundary');
    const data = Buffer.from(body.subarray(headEnd + 4, next));
    const disposition = headers.get('content-disposition') ?? '';
    const name = param(disposition, 'name') ?? '';
    let filename = param(disposition, 'filename');
    const star = param(disposition, 'filename\\*');
    if (star) {
      const m = /^[^']*'[^']*'(.*)$/.exec(star);
      if (m) filename = decodeURIComponent(m[1]);
    }
    const ct = headers.get('content-type');
    if (filename) {
      fields.push({ kind: 'file', name, filename, contentType: ct ?? 'application/octet-stream', data });
    } else if (ct === undefined || ct.toLowerCase().startsWith('text/')) {
      fields.push({
        kind: 'text',
        name,
        value: data.toString((param(ct ?? '', 'charset') ?? 'utf-8').toLowerCase() === 'latin-1' ? 'latin1' : 'utf8'),
      });
    } else {
      fields.push({ kind: 'bytes', name, value: data });
    }
    pos = next + 2;
  }
  return fields;
}

/** `await request.post()`: parse a form body according to its Content-Type. */
export function parseForm(body: Buffer, contentType: string | undefined): FormData {
  const ct = (contentType ?? '').trim();
  const mime = ct.split(';')[0].trim().toLowerCase();
  if (mime === 'multipart/form-data') return new FormData(parseMultipart(body, ct));
  if (mime === '' || mime === 'application/x-www-form-urlencoded') {
    const fields: FormField[] = [];
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) fields.push({ kind: 'text', name, value });
    return new FormData(fields);
  }
  return new FormData([]);
}

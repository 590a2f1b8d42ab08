/**
 * The part of the Logging query language the GCP fake understands, enough for
 * the filters tools write for Cloud Run jobs (Logging docs, "Logging query
 * language"): comparisons `field OP value` with OP one of `=`, `!=`, `>`,
 * `>=`, `<`, `<=`, `:` (has); terms joined by `AND` (or by juxtaposition,
 * which the language treats as AND), `OR`, `NOT` / `-`, and parentheses (the
 * Node client wraps a user filter as `(filter) AND logName="..."`). Fields:
 * `resource.type`, `resource.labels.K`, `labels.K` / `labels."K"`,
 * `logName`, `timestamp`, `receiveTimestamp`, `severity`, `insertId`,
 * `textPayload`. Anything else is INVALID_ARGUMENT naming the part the fake
 * does not simulate, so a test never silently matches everything.
 */
import { GcpApiError } from "./api-error.js";

/** The fields of a log entry the filter reads. */
export interface FilterableEntry {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  labels: Record<string, string>;
  timestamp: number;
  receiveTimestamp: number;
  severity: string;
  insertId: string;
  textPayload: string;
}

/** A compiled filter. */
export type LogFilter = (entry: FilterableEntry) => boolean;

/** The Logging query language's maximum query length (logging.proto: "The maximum length of a filter is 20,000 characters"). */
export const maxFilterLength = 20_000;

/** LogSeverity in order (google/logging/type/log_severity.proto). */
const severities = ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"];

type Token = { kind: "word" | "string" | "op" | "lparen" | "rparen"; text: string };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push({ kind: c === "(" ? "lparen" : "rparen", text: c });
      i++;
    } else if (c === '"') {
      let text = "";
      i++;
      while (i < filter.length && filter[i] !== '"') {
        if (filter[i] === "\\" && i + 1 < filter.length) i++;
        text += filter[i];
        i++;
      }
      if (i >= filter.length)
        throw GcpApiError.invalid(`Invalid filter: unterminated string in ${JSON.stringify(filter)}.`);
      i++;
      tokens.push({ kind: "string", text });
    } else if (/[<>!=:]/.test(c)) {
      const two = filter.slice(i, i + 2);
      const op = [">=", "<=", "!=", "=~"].includes(two) ? two : c;
      if (op === "=~" || (op === "!" && filter[i + 1] === "~"))
        throw GcpApiError.invalid("Invalid filter: regular expression matching (=~, !~) is not simulated by the fake.");
      tokens.push({ kind: "op", text: op });
      i += op.length;
    } else {
      let text = "";
      while (i < filter.length && !/[\s()<>!=:"]/.test(filter[i] as string)) text += filter[i++];
      // A quoted segment inside a field path, e.g. labels."run.googleapis.com/execution_name".
      while (filter[i] === '"' && text.endsWith(".")) {
        const close = filter.indexOf('"', i + 1);
        if (close < 0) throw GcpApiError.invalid(`Invalid filter: unterminated string in ${JSON.stringify(filter)}.`);
        text += filter.slice(i, close + 1);
        i = close + 1;
        while (i < filter.length && !/[\s()<>!=:"]/.test(filter[i] as string)) text += filter[i++];
      }
      tokens.push({ kind: "word", text });
    }
  }
  return tokens;
}

/** Splits a field path into segments, unquoting quoted ones: labels."a.b/c" → ["labels", "a.b/c"]. */
function fieldPath(text: string): string[] {
  const parts: string[] = [];
  const pattern = /"([^"]*)"|([^.]+)/g;
  for (const match of text.matchAll(pattern)) parts.push((match[1] ?? match[2]) as string);
  return parts;
}

function fieldReader(path: string[], raw: string): (entry: FilterableEntry) => string | number | undefined {
  const [head, second, ...rest] = path;
  if (head === "resource" && second === "type" && rest.length === 0) return (e) => e.resource.type;
  if (head === "resource" && second === "labels" && rest.length === 1)
    return (e) => e.resource.labels[rest[0] as string];
  if (head === "labels" && second !== undefined && rest.length === 0) return (e) => e.labels[second];
  if (path.length === 1) {
    switch (head) {
      case "logName":
        return (e) => e.logName;
      case "timestamp":
        return (e) => e.timestamp;
      case "receiveTimestamp":
        return (e) => e.receiveTimestamp;
      case "severity":
        return (e) => severities.indexOf(e.severity);
      case "insertId":
        return (e) => e.insertId;
      case "textPayload":
        return (e) => e.textPayload;
    }
  }
  throw GcpApiError.invalid(
    `Invalid filter: the fake does not simulate the field "${raw}" (it knows resource.type, resource.labels.*, labels.*, logName, timestamp, receiveTimestamp, severity, insertId, textPayload).`,
  );
}

function compileComparison(field: string, op: string, value: string): LogFilter {
  const path = fieldPath(field);
  const read = fieldReader(path, field);
  const isTime = path.length === 1 && (path[0] === "timestamp" || path[0] === "receiveTimestamp");
  const isSeverity = path.length === 1 && path[0] === "severity";
  let expected: string | number = value;
  if (isTime) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms))
      throw GcpApiError.invalid(`Invalid filter: ${field} ${op} "${value}" is not an RFC 3339 timestamp.`);
    expected = ms;
  } else if (isSeverity) {
    const level = severities.indexOf(value.toUpperCase());
    if (level < 0)
      throw GcpApiError.invalid(`Invalid filter: "${value}" is not a LogSeverity (${severities.join(", ")}).`);
    expected = level;
  }
  return (entry) => {
    const actual = read(entry);
    if (actual === undefined) return op === "!=";
    switch (op) {
      case "=":
        return actual === expected;
      case "!=":
        return actual !== expected;
      case ":":
        return String(actual).includes(String(expected));
      case ">":
        return actual > expected;
      case ">=":
        return actual >= expected;
      case "<":
        return actual < expected;
      case "<=":
        return actual <= expected;
      default:
        throw GcpApiError.invalid(`Invalid filter: unknown operator "${op}".`);
    }
  };
}

/** Parses `filter`; an empty filter matches every entry. */
export function parseLogFilter(filter: string): LogFilter {
  if (filter.length > maxFilterLength)
    throw GcpApiError.invalid(`Invalid filter: ${filter.length} characters exceed the maximum of ${maxFilterLength}.`);
  const tokens = tokenize(filter);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++];

  function parseOr(): LogFilter {
    const terms = [parseAnd()];
    while (peek()?.kind === "word" && peek()?.text === "OR") {
      next();
      terms.push(parseAnd());
    }
    return terms.length === 1 ? (terms[0] as LogFilter) : (e) => terms.some((t) => t(e));
  }

  function parseAnd(): LogFilter {
    const terms = [parseUnary()];
    for (;;) {
      const token = peek();
      if (!token || token.kind === "rparen" || (token.kind === "word" && token.text === "OR")) break;
      if (token.kind === "word" && token.text === "AND") next();
      terms.push(parseUnary());
    }
    return terms.length === 1 ? (terms[0] as LogFilter) : (e) => terms.every((t) => t(e));
  }

  function parseUnary(): LogFilter {
    const token = next();
    if (!token) throw GcpApiError.invalid(`Invalid filter: unexpected end of ${JSON.stringify(filter)}.`);
    if ((token.kind === "word" && token.text === "NOT") || (token.kind === "word" && token.text === "-")) {
      const inner = parseUnary();
      return (e) => !inner(e);
    }
    if (token.kind === "word" && token.text.startsWith("-") && token.text.length > 1) {
      tokens.splice(position, 0, { kind: "word", text: token.text.slice(1) });
      const inner = parseUnary();
      return (e) => !inner(e);
    }
    if (token.kind === "lparen") {
      const inner = parseOr();
      if (next()?.kind !== "rparen")
        throw GcpApiError.invalid(`Invalid filter: unbalanced parentheses in ${JSON.stringify(filter)}.`);
      return inner;
    }
    const op = next();
    const value = next();
    if (token.kind !== "word" || op?.kind !== "op" || !value || (value.kind !== "string" && value.kind !== "word"))
      throw GcpApiError.invalid(
        `Invalid filter: expected "field OPERATOR value" near "${token.text}" in ${JSON.stringify(filter)} (the fake does not simulate global text search).`,
      );
    return compileComparison(token.text, op.text, value.text);
  }

  if (tokens.length === 0) return () => true;
  const compiled = parseOr();
  if (position < tokens.length)
    throw GcpApiError.invalid(`Invalid filter: unexpected "${tokens[position]?.text}" in ${JSON.stringify(filter)}.`);
  return compiled;
}

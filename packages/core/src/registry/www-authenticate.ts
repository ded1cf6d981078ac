/** One challenge of a `WWW-Authenticate` header: its scheme (lower case) and parameters. */
export interface AuthChallenge {
  /** `basic` or `bearer` (lower case), or whatever else the server named. */
  scheme: string;
  /** Parameters with lower-case names: `realm`, `service`, `scope`, `error`, … */
  params: Record<string, string>;
}

/**
 * Parse `WWW-Authenticate` header values (RFC 7235), e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
 * Several challenges may share one value; quoted strings may hold commas and `\"`.
 */
export function parseWwwAuthenticate(
  values: string | readonly string[] | undefined,
): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  const list = values === undefined ? [] : typeof values === "string" ? [values] : values;
  for (const value of list) {
    let i = 0;
    let current: AuthChallenge | undefined;
    const skip = () => {
      while (i < value.length && /[\s,]/.test(value[i]!)) i++;
    };
    const token = () => {
      const start = i;
      while (i < value.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(value[i]!)) i++;
      return value.slice(start, i);
    };
    while (i < value.length) {
      skip();
      const name = token();
      if (!name) {
        i++;
        continue;
      }
      while (value[i] === " ") i++;
      if (value[i] === "=") {
        i++;
        while (value[i] === " ") i++;
        let v = "";
        if (value[i] === '"') {
          i++;
          while (i < value.length && value[i] !== '"') {
            if (value[i] === "\\" && i + 1 < value.length) i++;
            v += value[i];
            i++;
          }
          i++;
        } else {
          const start = i;
          while (i < value.length && value[i] !== ",") i++;
          v = value.slice(start, i).trim();
        }
        if (current) current.params[name.toLowerCase()] = v;
      } else {
        current = { scheme: name.toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}

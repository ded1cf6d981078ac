/**
 * Sizes as docker prints them: go-units' `HumanSizeWithPrecision(size, 3)`, decimal units
 * (`0B`, `123kB`, `1.99MB`, `1e+03kB`), formatted like Go's `%.3g`.
 */

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"] as const;

/**
 * A byte count in docker's human form (`docker images` SIZE, `docker history` SIZE).
 * Reproduces go-units exactly, including Go's `%g` quirks (`999999` → `1e+03kB`).
 */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${DECIMAL_UNITS[i]}`;
}

/**
 * Go's `fmt.Sprintf("%.*g", precision, x)` for finite numbers: `precision` significant
 * digits rounded half-to-even on the exact binary value, trailing zeros dropped, and
 * exponent form (`1e+03`, two-digit exponent at least) when the exponent is below -4 or
 * not below `precision`.
 */
export function formatG(x: number, precision: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const prec = Math.max(1, precision);
  const negative = x < 0;
  const { digits, exponent } = roundDigits(Math.abs(x), prec);
  let out: string;
  if (exponent < -4 || exponent >= prec) {
    const mantissa = trimZeros(digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits);
    const e = Math.abs(exponent).toString().padStart(2, "0");
    out = `${mantissa}e${exponent < 0 ? "-" : "+"}${e}`;
  } else if (exponent < 0) {
    out = trimZeros(`0.${"0".repeat(-exponent - 1)}${digits}`);
  } else {
    const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
    const frac = digits.slice(exponent + 1);
    out = frac ? trimZeros(`${intPart}.${frac}`) : intPart;
  }
  return negative ? `-${out}` : out;
}

/** `prec` significant digits of `x` (> 0) and the decimal exponent of the first one. */
function roundDigits(x: number, prec: number): { digits: string; exponent: number } {
  // toExponential(99) is not exact for every double, but 100 significant digits cover
  // the exact expansion of any double whose magnitude is within 1e-30..1e30, which is
  // every size and duration this is used for; ties are then detected exactly.
  const [mant = "0", exp = "0"] = x.toExponential(99).split("e");
  const all = mant.replace(".", "");
  let exponent = Number(exp);
  const kept = all.slice(0, prec);
  const rest = all.slice(prec);
  const first = rest.charCodeAt(0) - 48;
  const tail = rest.slice(1);
  let roundUp = false;
  if (first > 5) roundUp = true;
  else if (first === 5) {
    const exactHalf = /^0*$/.test(tail);
    const lastKept = kept.charCodeAt(kept.length - 1) - 48;
    roundUp = !exactHalf || lastKept % 2 === 1;
  }
  let digits = kept;
  if (roundUp) {
    const n = (BigInt(kept) + 1n).toString();
    if (n.length > prec) {
      exponent += 1;
      digits = n.slice(0, prec);
    } else {
      digits = n;
    }
  }
  return { digits, exponent };
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

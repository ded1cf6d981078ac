/**
 * Go's `strconv.FormatFloat` for the `e`, `f` and `g` formats, shortest (`prec` -1) or to
 * a precision, with Go's rounding (half to even on the exact binary value).
 */

/** A decimal: `digits` (no trailing zeros; empty for zero) and the decimal point's place. */
interface Decimal {
  digits: string;
  /** Position of the decimal point: the value is `0.<digits> × 10^dp`. */
  dp: number;
}

/** The shortest digits that read back as `x` (x finite, ≥ 0). */
function shortest(x: number): Decimal {
  if (x === 0) return { digits: "", dp: 0 };
  const [mant = "0", exp = "0"] = x.toExponential().split("e");
  return trim({ digits: mant.replace(".", ""), dp: Number(exp) + 1 });
}

/**
 * Near-exact digits of `x` (x finite, > 0): 101 significant digits, which covers the exact
 * expansion of every double this is used for; ties are then detected exactly.
 */
function exact(x: number): Decimal {
  const [mant = "0", exp = "0"] = x.toExponential(100).split("e");
  return { digits: mant.replace(".", ""), dp: Number(exp) + 1 };
}

function trim(d: Decimal): Decimal {
  const digits = d.digits.replace(/0+$/, "");
  return digits === "" ? { digits: "", dp: 0 } : { digits, dp: d.dp };
}

/** Round `d` to `n` digits (n may be ≤ 0: rounding to zero or to one unit). */
function roundTo(d: Decimal, n: number): Decimal {
  if (n < 0) return { digits: "", dp: 0 };
  if (n >= d.digits.length) return trim(d);
  const first = d.digits.charCodeAt(n) - 48;
  const rest = d.digits.slice(n + 1);
  let up = first > 5;
  if (first === 5) {
    const exactHalf = /^0*$/.test(rest);
    const prev = n > 0 ? d.digits.charCodeAt(n - 1) - 48 : 0;
    up = !exactHalf || prev % 2 === 1;
  }
  const kept = d.digits.slice(0, n);
  if (!up) return trim({ digits: kept, dp: d.dp });
  // Add one unit in the last kept place.
  const arr = kept.split("");
  let i = arr.length - 1;
  while (i >= 0 && arr[i] === "9") {
    arr[i] = "0";
    i--;
  }
  if (i < 0) return trim({ digits: `1${arr.join("")}`, dp: d.dp + 1 });
  arr[i] = String(Number(arr[i]) + 1);
  return trim({ digits: arr.join(""), dp: d.dp });
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? (d.digits[i] as string) : "0";
}

function fmtE(d: Decimal, prec: number, e: "e" | "E"): string {
  let s = digitAt(d, 0);
  if (prec > 0) {
    s += ".";
    for (let i = 1; i <= prec; i++) s += digitAt(d, i);
  }
  const exp = d.digits === "" ? 0 : d.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${e}${exp < 0 ? "-" : "+"}${abs < 10 ? `0${abs}` : abs}`;
}

function fmtF(d: Decimal, prec: number): string {
  let s = "";
  if (d.dp > 0) for (let i = 0; i < d.dp; i++) s += digitAt(d, i);
  else s = "0";
  if (prec > 0) {
    s += ".";
    for (let i = 0; i < prec; i++) s += digitAt(d, d.dp + i);
  }
  return s;
}

/**
 * `strconv.FormatFloat(x, fmt, prec, 64)` for `fmt` in `e E f F g G`; `prec` -1 means the
 * shortest representation that reads back exactly.
 */
export function formatFloat(
  x: number,
  fmt: "e" | "E" | "f" | "F" | "g" | "G",
  prec: number,
): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  const sign = neg ? "-" : "";
  const isShortest = prec < 0;
  let d: Decimal;
  if (isShortest) d = shortest(abs);
  else if (abs === 0) d = { digits: "", dp: 0 };
  else {
    const ex = exact(abs);
    switch (fmt) {
      case "e":
      case "E":
        d = roundTo(ex, prec + 1);
        break;
      case "f":
      case "F":
        d = roundTo(ex, ex.dp + prec);
        break;
      default:
        d = roundTo(ex, prec === 0 ? 1 : prec);
    }
  }
  switch (fmt) {
    case "e":
    case "E":
      return sign + fmtE(d, isShortest ? Math.max(d.digits.length - 1, 0) : prec, fmt);
    case "f":
    case "F":
      return sign + fmtF(d, isShortest ? Math.max(d.digits.length - d.dp, 0) : prec);
    default: {
      let p = isShortest ? d.digits.length : prec === 0 ? 1 : prec;
      let eprec = p;
      if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
      if (isShortest) eprec = 6;
      const exp = d.dp - 1;
      if (d.digits !== "" && (exp < -4 || exp >= eprec)) {
        if (p > d.digits.length) p = d.digits.length;
        return sign + fmtE(d, Math.max(p - 1, 0), fmt === "G" ? "E" : "e");
      }
      if (p > d.dp) p = d.digits.length;
      return sign + fmtF(d, Math.max(p - d.dp, 0));
    }
  }
}

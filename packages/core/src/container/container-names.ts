import { randomInt } from "node:crypto";

// A selection of the words docker's `namesgenerator` pairs (adjective, then a scientist's
// or hacker's surname), so generated names look like docker's: `focused_turing`.
// biome-ignore format: a word list reads better packed
const LEFT = [
  "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful",
  "blissful", "bold", "boring", "brave", "busy", "charming", "clever", "compassionate",
  "competent", "condescending", "confident", "cool", "cranky", "crazy", "dazzling", "determined",
  "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic",
  "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny",
  "gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful",
  "hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen",
  "kind", "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty",
  "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic",
  "pensive", "practical", "priceless", "quirky", "quizzical", "recursing", "relaxed", "reverent",
  "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange", "stupefied",
  "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant",
  "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
];

// biome-ignore format: a word list reads better packed
const RIGHT = [
  "agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli", "babbage", "banach",
  "bardeen", "bartik", "bassi", "bell", "benz", "bhabha", "blackburn", "blackwell", "bohr",
  "booth", "borg", "bose", "bouman", "brattain", "brown", "carson", "cerf", "chandrasekhar",
  "chaplygin", "clarke", "colden", "cori", "cray", "curie", "darwin", "davinci", "dijkstra",
  "dubinsky", "easley", "edison", "einstein", "elion", "engelbart", "euclid", "euler", "faraday",
  "feistel", "fermat", "fermi", "feynman", "franklin", "galileo", "gates", "goldberg",
  "goldstine", "goldwasser", "golick", "goodall", "hamilton", "hawking", "heisenberg", "hellman",
  "hermann", "herschel", "hertz", "hodgkin", "hofstadter", "hoover", "hopper", "hugle", "hypatia",
  "jackson", "jang", "jennings", "jepsen", "johnson", "joliot", "jones", "kalam", "kapitsa",
  "keller", "kepler", "khorana", "kilby", "kirch", "knuth", "kowalevski", "lalande", "lamarr",
  "lamport", "leakey", "leavitt", "lederberg", "lehmann", "lewin", "lichterman", "liskov",
  "lovelace", "lumiere", "mahavira", "margulis", "matsumoto", "maxwell", "mayer", "mccarthy",
  "mcclintock", "mclean", "meitner", "mendel", "mendeleev", "merkle", "mirzakhani", "montalcini",
  "moore", "morse", "moser", "napier", "nash", "neumann", "newton", "nightingale", "nobel",
  "noether", "northcutt", "noyce", "panini", "pare", "pascal", "pasteur", "payne", "perlman",
  "pike", "poincare", "poitras", "ptolemy", "raman", "ramanujan", "ride", "ritchie", "robinson",
  "roentgen", "rosalind", "rubin", "saha", "sammet", "sanderson", "satoshi", "shamir", "shannon",
  "shaw", "shirley", "shockley", "sinoussi", "snyder", "solomon", "spence", "stonebraker",
  "sutherland", "swanson", "swartz", "swirles", "taussig", "tesla", "tharp", "thompson",
  "torvalds", "tu", "turing", "varahamihira", "vaughan", "villani", "visvesvaraya", "volhard",
  "wescoff", "wilbur", "wiles", "williams", "williamson", "wilson", "wing", "wozniak", "wright",
  "wu", "yalow", "yonath", "zhukovsky",
];

/**
 * A docker-style container name, `adjective_surname` (docker's `namesgenerator`), never
 * one `taken` says is in use: after a few collisions a digit is appended, as docker does.
 * As in docker, `boring_wozniak` is never generated.
 */
export function generateContainerName(taken: (name: string) => boolean): string {
  for (let retry = 0; ; retry++) {
    const left = LEFT[randomInt(LEFT.length)]!;
    const right = RIGHT[randomInt(RIGHT.length)]!;
    let name = `${left}_${right}`;
    if (name === "boring_wozniak") continue;
    if (retry > 3) name += String(randomInt(10));
    if (!taken(name)) return name;
  }
}

import { SeededRandom } from "./seeded-random.ts";

// Word lists for a small, consistent story world. The generator gives the text structure a
// tiny model can pick up: agreement, pronouns that follow their names, sums that add up,
// and a fixed lexicon of invented words whose definitions never change.
const NAMES: Array<[string, "she" | "he" | "they"]> = (
  "Anna:she Ben:he Clara:she Daniel:he Ella:she Finn:he Grace:she Hugo:he Iris:she Jack:he Kira:she Leo:he " +
  "Maya:she Noah:he Olive:she Paul:he Quinn:they Rosa:she Sam:they Tara:she Umar:he Vera:she Will:he Zoe:she " +
  "Ada:she Bruno:he Cleo:she Dev:he Eva:she Felix:he Gina:she Hank:he Ines:she Ivan:he June:she Karl:he " +
  "Lena:she Milo:he Nora:she Omar:he Pia:she Ravi:he Sara:she Theo:he Uma:she Vic:they Wren:they Yuri:he"
)
  .split(" ")
  .map((entry) => entry.split(":") as [string, "she" | "he" | "they"]);
const ANIMALS = "cat dog fox owl rabbit bear mouse duck goat horse frog deer wolf otter badger hedgehog turtle squirrel pony sparrow".split(" ");
const ADJECTIVES = "small big brave shy clever sleepy happy curious quiet gentle bright old young kind grumpy lucky tiny tall busy proud".split(" ");
const COLORS = "red blue green yellow purple orange brown white black silver golden pink".split(" ");
const THINGS = "ball key kite map box hat lamp book drum boat coin bell basket ribbon shell stone cup spoon flute blanket".split(" ");
const PLACES = "forest market river village garden meadow hill bridge farm lake cave castle harbor library bakery orchard valley island".split(" ");
const FRUITS = "apple pear plum cherry peach lemon orange melon grape berry".split(" ");
const FEELINGS = "happy sad surprised worried excited proud tired calm scared glad".split(" ");
const WEATHER = ["sunny", "rainy", "windy", "cold", "warm", "foggy", "snowy", "cloudy"];
// Verbs in the past tense, and [base, past] pairs for things friends do together.
const MOVES = "walked ran hurried went skipped wandered raced strolled hopped".split(" ");
const GAMES: Array<[string, string]> = "play:played dance:danced paint:painted sing:sang read:read build:built swim:swam draw:drew"
  .split(" ")
  .map((pair) => pair.split(":") as [string, string]);
const NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split(" ");
const SYLLABLES = "ba be bi bo bu da de di do ka ke ki ko lu la li lo ma me mi mo na ne ni no ra re ri ro sa se si so ta te ti to va ve vi zo zu".split(" ");
const ENDINGS = ["", "n", "r", "l", "sh", "th", "k", "m", "x"];
const LEXICON_SIZE = 300;

const PRONOUNS = {
  she: { subject: "she", object: "her", possessive: "her", is: "is", has: "has" },
  he: { subject: "he", object: "him", possessive: "his", is: "is", has: "has" },
  they: { subject: "they", object: "them", possessive: "their", is: "are", has: "have" },
};

const capitalize = (s: string) => s[0].toUpperCase() + s.slice(1);
const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);
const plural = (word: string, n: number) => (n === 1 ? word : word.endsWith("y") && !/[aeiou]y$/.test(word) ? `${word.slice(0, -1)}ies` : `${word}s`);

interface Character {
  name: string;
  pronoun: (typeof PRONOUNS)[keyof typeof PRONOUNS];
  animal: string;
}

/**
 * An endless, deterministic stream of English-like documents (stories, sums, lexicon entries,
 * questions and answers) for the CPU and test profiles, which must work with no network.
 * `seed` fixes the world (the invented words and their meanings); `streamSeed` picks the
 * documents written about it, so a validation stream from a secret seed describes the same
 * world as the training stream without repeating it.
 */
export function* syntheticDocuments(seed: number, streamSeed = seed): Generator<string> {
  const random = new SeededRandom(streamSeed);
  const lexicon = makeLexicon(new SeededRandom(seed ^ 0x5eed));
  const kinds = [story, story, story, sums, lexiconEntries, questions];
  for (;;) yield random.pick(kinds)(random, lexicon);
}

interface Entry {
  word: string;
  kind: string;
  color: string;
  place: string;
}

/** Invented words with fixed meanings: the same word always gets the same definition. */
function makeLexicon(random: SeededRandom): Entry[] {
  const words = new Set<string>();
  while (words.size < LEXICON_SIZE) {
    const syllables = Array.from({ length: random.between(2, 3) }, () => random.pick(SYLLABLES)).join("");
    words.add(syllables + random.pick(ENDINGS));
  }
  return [...words].map((word) => ({ word, kind: random.pick([...ANIMALS, ...THINGS, ...FRUITS]), color: random.pick(COLORS), place: random.pick(PLACES) }));
}

function character(random: SeededRandom): Character {
  const [name, pronoun] = random.pick(NAMES);
  return { name, pronoun: PRONOUNS[pronoun], animal: random.pick(ANIMALS) };
}

function story(random: SeededRandom, lexicon: Entry[]): string {
  const hero = character(random);
  let friend = character(random);
  while (friend.name === hero.name) friend = character(random);
  const p = hero.pronoun;
  const place = random.pick(PLACES);
  const thing = `${random.pick(COLORS)} ${random.pick(THINGS)}`;
  const sentences = [
    random.pick([
      `Once upon a time, there was ${article(random.pick(ADJECTIVES))} ${hero.animal} named ${hero.name}.`,
      `${hero.name} was ${article(random.pick(ADJECTIVES))} ${hero.animal} who lived near the ${place}.`,
      `It was a ${random.pick(WEATHER)} morning at the ${place}.`,
    ]),
  ];
  const events = [
    () => `${capitalize(p.subject)} ${random.pick(MOVES)} to the ${random.pick(PLACES)}.`,
    () => `One day, ${hero.name} found ${article(thing)} under a tree.`,
    () => `${hero.name} met ${friend.name} the ${friend.animal} by the ${random.pick(PLACES)}.`,
    () => `"Hello, ${friend.name}!" said ${hero.name}. "Do you want to ${random.pick(GAMES)[0]} with me?"`,
    () => `"Yes, I would like that," said ${friend.name}, and ${friend.pronoun.subject} smiled.`,
    () => `${capitalize(p.subject)} ${p.is} ${random.pick(FEELINGS)} because ${p.subject} ${p.has} ${article(thing)}.`,
    () => `${hero.name} and ${friend.name} ${random.pick(GAMES)[1]} together until the sun went down.`,
    () => `${capitalize(p.possessive)} ${thing} was gone, so ${p.subject} ${random.pick(["looked", "searched"])} for it everywhere.`,
    () => {
      const entry = random.pick(lexicon);
      return `At the ${entry.place}, ${p.subject} saw a ${entry.word}, which is a ${entry.color} ${entry.kind}.`;
    },
    () => `The weather was ${random.pick(WEATHER)}, and ${hero.name} felt ${random.pick(FEELINGS)}.`,
  ];
  const length = random.between(2, 40);
  for (let i = 0; i < length; i++) {
    sentences.push(random.pick(events)());
    if (random.chance(0.15)) sentences.push("\n\n");
  }
  sentences.push(
    random.pick([
      "The end.",
      `From that day on, ${hero.name} and ${friend.name} were good friends.`,
      `${hero.name} went home and slept well.`,
    ]),
  );
  return sentences.join(" ").replace(/ ?\n\n ?/g, "\n\n");
}

function sums(random: SeededRandom): string {
  const lines: string[] = [];
  for (let i = random.between(1, 6); i > 0; i--) {
    const hero = character(random);
    const fruit = random.pick(FRUITS);
    const a = random.between(0, 12);
    const b = random.between(1, 12);
    const p = hero.pronoun;
    lines.push(
      random.chance(0.5)
        ? `${hero.name} had ${NUMBER_WORDS[a]} ${plural(fruit, a)} and found ${NUMBER_WORDS[b]} more, so now ${p.subject} ${p.has} ${a + b} ${plural(fruit, a + b)}.`
        : `${a + b} minus ${b} is ${a}, and ${a} plus ${b} is ${a + b}.`,
    );
  }
  return lines.join(" ");
}

function lexiconEntries(random: SeededRandom, lexicon: Entry[]): string {
  const lines: string[] = [];
  for (let i = random.between(1, 8); i > 0; i--) {
    const { word, kind, color, place } = random.pick(lexicon);
    lines.push(`${word} (noun): a ${color} ${kind} that is found in the ${place}.`);
  }
  return lines.join("\n");
}

function questions(random: SeededRandom, lexicon: Entry[]): string {
  const lines: string[] = [];
  for (let i = random.between(1, 5); i > 0; i--) {
    const entry = random.pick(lexicon);
    lines.push(
      random.chance(0.5)
        ? `Q: What color is a ${entry.word}?\nA: A ${entry.word} is ${entry.color}.`
        : `Q: Where do you find a ${entry.word}?\nA: You find a ${entry.word} in the ${entry.place}.`,
    );
  }
  return lines.join("\n\n");
}

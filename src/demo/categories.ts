/** What the demo shop sells: the categories and what is typical of each. */
export interface CategorySpec {
  readonly name: string;
  /** Relative share of the catalog. */
  readonly share: number;
  /** Median price in USD; prices are lognormal around it, so each category has its own price level. */
  readonly medianPrice: number;
  readonly priceSpread: number;
  /** Categories an item of this one may also belong to (its secondary category). */
  readonly related: readonly string[];
  readonly tags: readonly string[];
  readonly brands: readonly string[];
  readonly nouns: readonly string[];
}

export const CATEGORIES: readonly CategorySpec[] = [
  {
    name: 'shoes',
    share: 1.2,
    medianPrice: 85,
    priceSpread: 0.45,
    related: ['sports', 'outdoor'],
    tags: ['running', 'leather', 'casual', 'formal', 'waterproof', 'kids', 'vegan', 'wide-fit'],
    brands: ['Stridewell', 'Kettle & Co', 'Northlast', 'Pavo'],
    nouns: ['sneakers', 'boots', 'loafers', 'sandals', 'trainers'],
  },
  {
    name: 'outdoor',
    share: 1,
    medianPrice: 95,
    priceSpread: 0.7,
    related: ['sports', 'garden'],
    tags: ['camping', 'hiking', 'lightweight', 'waterproof', 'winter', 'family', 'ultralight'],
    brands: ['Ridgeline', 'Fernway', 'Bivvy', 'Cairn'],
    nouns: ['tent', 'backpack', 'headlamp', 'sleeping bag', 'jacket'],
  },
  {
    name: 'kitchen',
    share: 1.1,
    medianPrice: 35,
    priceSpread: 0.6,
    related: ['garden'],
    tags: ['cookware', 'baking', 'dishwasher-safe', 'cast-iron', 'coffee', 'storage', 'gift'],
    brands: ['Copperleaf', 'Hearth', 'Mise', 'Salt & Pan'],
    nouns: ['skillet', 'knife set', 'kettle', 'mixing bowls', 'grinder'],
  },
  {
    name: 'books',
    share: 1.4,
    medianPrice: 16,
    priceSpread: 0.35,
    related: ['toys', 'music'],
    tags: ['fiction', 'crime', 'cooking', 'history', 'children', 'paperback', 'hardcover', 'bestseller'],
    brands: ['Larkspur Press', 'Quillhouse', 'Folio North'],
    nouns: ['novel', 'cookbook', 'biography', 'picture book', 'guide'],
  },
  {
    name: 'electronics',
    share: 1,
    medianPrice: 180,
    priceSpread: 0.8,
    related: ['music'],
    tags: ['wireless', 'bluetooth', 'usb-c', 'smart-home', 'portable', 'noise-cancelling', '4k'],
    brands: ['Voltari', 'Pixelmoor', 'Anode', 'Helix'],
    nouns: ['headphones', 'speaker', 'charger', 'camera', 'smartwatch'],
  },
  {
    name: 'toys',
    share: 0.9,
    medianPrice: 28,
    priceSpread: 0.55,
    related: ['books'],
    tags: ['educational', 'wooden', 'puzzle', 'outdoor-play', 'ages-3+', 'ages-8+', 'board-game'],
    brands: ['Tumbletot', 'Brickwise', 'Merrymaker'],
    nouns: ['puzzle', 'building set', 'plush', 'board game', 'kite'],
  },
  {
    name: 'beauty',
    share: 0.9,
    medianPrice: 24,
    priceSpread: 0.5,
    related: [],
    tags: ['skincare', 'fragrance', 'organic', 'sensitive-skin', 'haircare', 'travel-size'],
    brands: ['Lumen', 'Petalcraft', 'Ode'],
    nouns: ['serum', 'moisturiser', 'shampoo', 'perfume', 'lip balm'],
  },
  {
    name: 'garden',
    share: 0.8,
    medianPrice: 42,
    priceSpread: 0.6,
    related: ['outdoor', 'kitchen'],
    tags: ['seeds', 'tools', 'planters', 'organic', 'watering', 'balcony', 'perennial'],
    brands: ['Greenthumb', 'Loam', 'Trellis'],
    nouns: ['pruner', 'planter', 'hose', 'seed kit', 'trowel'],
  },
  {
    name: 'sports',
    share: 1,
    medianPrice: 55,
    priceSpread: 0.6,
    related: ['outdoor', 'shoes'],
    tags: ['yoga', 'running', 'cycling', 'fitness', 'team-sports', 'swimming', 'recovery'],
    brands: ['Pacer', 'Ironleaf', 'Velo', 'Apex'],
    nouns: ['yoga mat', 'dumbbells', 'helmet', 'jersey', 'foam roller'],
  },
  {
    name: 'music',
    share: 0.7,
    medianPrice: 30,
    priceSpread: 0.9,
    related: ['electronics', 'books'],
    tags: ['vinyl', 'jazz', 'rock', 'classical', 'instrument', 'accessories', 'limited-edition'],
    brands: ['Groove Cellar', 'Tonewood', 'Bluenote Bros'],
    nouns: ['record', 'ukulele', 'guitar strings', 'metronome', 'box set'],
  },
];

export const COLORS: readonly string[] = ['black', 'white', 'grey', 'navy', 'red', 'green', 'sand', 'blue'];

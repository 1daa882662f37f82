// Where races run: the 43 keirin velodromes, the PIST6 dome in Chiba and the 5 autorace tracks.
// Slugs are romanized names; they appear in race ids.
import type { Sport } from '../core/sports.ts';

export const VENUES: Readonly<Record<Sport, readonly string[]>> = {
  keirin: [
    'hakodate', 'aomori', 'iwakidaira', 'yahiko', 'maebashi', 'toride', 'utsunomiya', 'omiya', 'seibuen',
    'keiokaku', 'tachikawa', 'matsudo', 'chiba', 'kawasaki', 'hiratsuka', 'odawara', 'ito', 'shizuoka',
    'nagoya', 'gifu', 'ogaki', 'toyohashi', 'toyama', 'matsusaka', 'yokkaichi', 'fukui', 'nara', 'mukomachi',
    'wakayama', 'kishiwada', 'tamano', 'hiroshima', 'hofu', 'takamatsu', 'komatsushima', 'kochi', 'matsuyama',
    'kokura', 'kurume', 'takeo', 'sasebo', 'beppu', 'kumamoto',
  ],
  pist6: ['pist6-chiba'],
  autorace: ['kawaguchi', 'isesaki', 'hamamatsu', 'iizuka', 'sanyo'],
};

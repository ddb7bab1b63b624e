// blessed-contrib's sparkline widget by itself: its index loads every widget, a world map among
// them (1.4 MB of the single executable's bundle, and time at every start of the screen).
declare module 'blessed-contrib/lib/widget/sparkline.js' {
  import type contrib from 'blessed-contrib';

  const sparkline: typeof contrib.sparkline;
  export default sparkline;
}

/** The clock is always injected (pure core takes `now`; services take a Clock) so tests and
 * the end-to-end scenario can move time without sleeping. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

// What the loader knows about elements it handled, kept beside them (never as properties on them).

/** Scripts the page's own code inserted (not the parser): they run in place once allowed. */
export const insertedByPage = new WeakSet();
/** Elements the config showed are no trackers: released, and left out of `assent.report()`. */
export const released = new WeakSet();
/** @type {WeakMap<Element, string | undefined>} The service a frame or image ran for (see blocking's `intercept`). */
export const ranFor = new WeakMap();

/** The URL attribute of each element type that loads something. */
export const URL_ATTR = /** @type {Record<string, string>} */ ({ SCRIPT: 'src', IFRAME: 'src', IMG: 'src', LINK: 'href' });

/** `setAttribute` as the browser defines it: the loader's own writes pass the page's hooks by. */
export const setAttr = Element.prototype.setAttribute;

// Whether anyone can see a part of the page: the tab (Page Visibility API) and an element within the viewport
// (IntersectionObserver). The hooks that load things only while they are seen (use-history.ts) ask these.
// Where the browser lacks an API, the answer is "seen": loading too much beats never showing anything.

import { useCallback, useEffect, useRef, useState } from "react";

/** True unless the page's tab is hidden (another tab in front, the window minimised). */
export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState !== "hidden");
  useEffect(() => {
    const onChange = () => setVisible(document.visibilityState !== "hidden");
    onChange();
    document.addEventListener("visibilitychange", onChange);
    return () => document.removeEventListener("visibilitychange", onChange);
  }, []);
  return visible;
}

/**
 * Whether the element given to the returned ref is within the viewport, or within `marginPx` of it (so that
 * what is about to be scrolled to starts loading a moment early). True until it is known.
 */
export function useInView(marginPx = 200): [boolean, (element: Element | null) => void] {
  const [inView, setInView] = useState(true);
  const observer = useRef<IntersectionObserver | null>(null);
  const ref = useCallback(
    (element: Element | null) => {
      observer.current?.disconnect();
      observer.current = null;
      if (element === null || typeof IntersectionObserver === "undefined") return;
      observer.current = new IntersectionObserver(
        (entries) => {
          const latest = entries[entries.length - 1];
          if (latest !== undefined) setInView(latest.isIntersecting);
        },
        { rootMargin: `${marginPx}px` },
      );
      observer.current.observe(element);
    },
    [marginPx],
  );
  useEffect(() => () => observer.current?.disconnect(), []);
  return [inView, ref];
}

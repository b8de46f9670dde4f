// The desktop preload's bridge (src/preload/index.ts), absent when the page is served to a browser.
import type { DesktopBridge } from '../../shared/desktop-bridge';

declare global {
  interface Window {
    readonly wavfusion?: DesktopBridge;
  }
}

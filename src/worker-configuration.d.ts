// Types `cloudflare:workers`' `exports` (the tests call the Worker through it).
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index");
  }
}

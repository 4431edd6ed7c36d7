// `npm run token -- --url BASE --user NAME [--scope "counter:write counter:audit"] [--password P]`: signs a
// development user in to the local issuer of `npm start` (the authorization code flow with PKCE, through its
// sign-in page: local/identity/login-client.ts) and prints the access token as the last line of stdout, for
// curl and scripts (README, "Signing in"). Who, which scopes and until when go to stderr. Exit 0 with a token,
// 1 when the issuer refused, 2 on a usage error.

import { parseArgs } from "node:util";
import { signIn, SignInError } from "../local/identity/login-client";
import { SCOPES } from "../contract/auth";

const EXIT_TOKEN = 0;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;

const USAGE = `usage: npm run token -- --url <base URL> --user <name> [--scope "<scopes>"] [--password <password>]
  Prints an access token of the local issuer (npm start) as the last line.
  --url <base>     the base URL of npm start, e.g. http://127.0.0.1:3000 (the issuer is <base>/oidc)
  --user <name>    a development user: alice, bob (write), audrey (write and audit), rita (no scope)
  --scope "<s>"    space-separated scopes to ask for (default ${SCOPES.write}); a user gets those it may have
  --password <p>   default: the development password (README, "Signing in")
  Exit status: 0 token printed, 1 refused by the issuer, 2 usage error.`;

type Arguments =
  | { readonly kind: "help" }
  | { readonly kind: "usageError"; readonly message: string }
  | {
      readonly kind: "token";
      readonly url: string;
      readonly user: string;
      readonly scope: string;
      readonly password: string | undefined;
    };

function readArguments(argv: readonly string[]): Arguments {
  let values: { url?: string; user?: string; scope?: string; password?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        url: { type: "string" },
        user: { type: "string" },
        scope: { type: "string" },
        password: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return {
      kind: "usageError",
      message: error instanceof Error ? (error.message.split("\n")[0] ?? "") : "",
    };
  }
  if (values.help === true) return { kind: "help" };
  if (values.url === undefined || values.url === "")
    return { kind: "usageError", message: "--url is required" };
  if (!URL.canParse(values.url) || !/^https?:$/.test(new URL(values.url).protocol)) {
    return { kind: "usageError", message: `--url must be an http:// or https:// URL (got "${values.url}")` };
  }
  if (values.user === undefined || values.user === "") {
    return { kind: "usageError", message: "--user is required" };
  }
  const scope = (values.scope ?? SCOPES.write).trim().split(/\s+/).join(" ");
  return { kind: "token", url: values.url, user: values.user, scope, password: values.password };
}

async function main(argv: readonly string[]): Promise<number> {
  const options = readArguments(argv);
  if (options.kind === "help") {
    console.log(USAGE);
    return EXIT_TOKEN;
  }
  if (options.kind === "usageError") {
    console.error(`usage error: ${options.message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const tokens = await signIn({
    baseUrl: options.url,
    user: options.user,
    scope: options.scope,
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  const until = new Date(Date.now() + tokens.expiresInSeconds * 1000).toISOString();
  const granted = tokens.scope === "" ? "no scope" : `scopes "${tokens.scope}"`;
  console.error(`access token of ${options.user} with ${granted}, valid until ${until}`);
  console.log(tokens.accessToken);
  return EXIT_TOKEN;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    if (error instanceof SignInError) {
      console.error(`no token: ${error.message}`);
      process.exit(EXIT_REFUSED);
    }
    const reason =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    console.error(`no token: could not reach the issuer (${reason})`);
    process.exit(EXIT_REFUSED);
  },
);

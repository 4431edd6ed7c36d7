// Identity on AWS as infra/ declares it, held to the same sources the local runtime uses: each route's JWT
// authorizer and scopes to contract/auth.ts ROUTE_ACCESS (what the local gateway enforces), the resource
// server's scopes to SCOPES through the trigger's renaming (services/identity), the web UI's app client to a
// public authorization-code client returning to the site only, the trigger wired with the V2_0 event, CORS for
// the site only, the UI's config.json and the outputs a deployer needs. docs/api.md#access is the rule.

import { beforeAll, describe, expect, it } from "vitest";
import { ALL_SCOPES, ROUTE_ACCESS, needsToken } from "../../../contract/auth";
import {
  AUDITORS_GROUP,
  COGNITO_SCOPE_OF,
  RESOURCE_SERVER_IDENTIFIER,
} from "../../../services/identity/pre-token-generation";
import { LAMBDA_ENTRIES } from "../../../scripts/build";
import {
  asBlock,
  asString,
  asStrings,
  blocks,
  expressionOf,
  loadTerraform,
  single,
  type HclBlock,
  type Terraform,
} from "../../support/terraform";

const SITE = "${local.site_origin}";

let terraform: Terraform;
beforeAll(async () => {
  terraform = await loadTerraform();
});

function routeAuthorization(): Record<string, HclBlock> {
  const table = asBlock(terraform.local("route_authorization"), "route_authorization");
  return Object.fromEntries(Object.entries(table).map(([key, value]) => [key, asBlock(value, key)]));
}

/**
 * Whether a route's `authorizer` value puts the JWT authorizer on it for a given `var.public_read`: a literal, or
 * `!var.public_read` (GET /number). Anything else is refused, so a new form needs a deliberate test change.
 */
function authorizerOn(value: unknown, publicRead: boolean, route: string): boolean {
  if (typeof value === "boolean") return value;
  if (value === "${!var.public_read}") return !publicRead;
  throw new Error(
    `${route}: authorizer must be true, false or !var.public_read (got ${JSON.stringify(value)})`,
  );
}

describe("the JWT authorizer on the routes (infra/api.tf) is contract/auth.ts ROUTE_ACCESS", () => {
  it("the authorization table covers exactly the deployed routes, $default included", () => {
    const routes = Object.keys(asBlock(terraform.local("api_routes"), "api_routes")).sort();
    expect(Object.keys(routeAuthorization()).sort()).toEqual(routes);
    expect(Object.keys(ROUTE_ACCESS).sort()).toEqual(routes.filter((route) => route !== "$default"));
  });

  it("for either value of public_read, a route has the authorizer exactly when needsToken says it needs a token", () => {
    const table = routeAuthorization();
    for (const publicRead of [true, false]) {
      for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
        const on = authorizerOn(table[route]?.authorizer, publicRead, route);
        expect({ route, publicRead, on }).toEqual({ route, publicRead, on: needsToken(access, publicRead) });
      }
      expect(authorizerOn(table.$default?.authorizer, publicRead, "$default"), "$default").toBe(false);
    }
  });

  it("each route's authorization scopes are exactly its ROUTE_ACCESS scopes: none wider, none missing", () => {
    const table = routeAuthorization();
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      const scopes = asStrings(table[route]?.scopes, `${route} scopes`);
      expect({ route, scopes: [...scopes].sort() }).toEqual({
        route,
        scopes: access.kind === "scoped" ? [...access.scopes].sort() : [],
      });
    }
    expect(asStrings(table.$default?.scopes, "$default scopes")).toEqual([]);
    // The names the table uses are the ones the local issuer and contract/auth.ts use.
    expect(Object.values(asBlock(terraform.local("api_scopes"), "api_scopes")).sort()).toEqual(
      [...ALL_SCOPES].sort(),
    );
  });

  it("every route takes its authorization from that table, and the authorizer is Cognito's, on the Bearer header", () => {
    const route = terraform.resource("aws_apigatewayv2_route", "route");
    const entry = "local.route_authorization[each.key]";
    expect(route.authorization_type).toBe(`\${${entry}.authorizer ? "JWT" : "NONE"}`);
    expect(route.authorizer_id).toBe(
      `\${${entry}.authorizer ? aws_apigatewayv2_authorizer.cognito.id : null}`,
    );
    expect(route.authorization_scopes).toBe(
      `\${${entry}.authorizer && length(${entry}.scopes) > 0 ? ${entry}.scopes : null}`,
    );
    const authorizer = terraform.resource("aws_apigatewayv2_authorizer", "cognito");
    expect(authorizer.authorizer_type).toBe("JWT");
    expect(authorizer.identity_sources).toEqual(["$request.header.Authorization"]);
    const jwt = single(authorizer.jwt_configuration, "jwt_configuration");
    expect(jwt.issuer).toBe("${local.issuer}");
    expect(terraform.local("issuer")).toBe("https://${aws_cognito_user_pool.users.endpoint}");
    // Cognito access tokens carry the app client in `client_id`, which API Gateway matches against the audience.
    expect(jwt.audience).toEqual(["${aws_cognito_user_pool_client.web.id}"]);
  });

  it("the Lambdas get the access settings of docs/api.md#access: auth on, PUBLIC_READ from the variable, the username claim", () => {
    expect(terraform.local("lambda_environment")).toMatchObject({
      AUTH: "on",
      PUBLIC_READ: "${tostring(var.public_read)}",
      ACTOR_NAME_CLAIM: "username",
    });
    expect(terraform.variable("public_read").default).toBe(true);
  });

  it("no CORS: the site calls the API on its own origin, and CloudFront passes the token on to the authorizer", () => {
    expect(terraform.resource("aws_apigatewayv2_api", "http")).not.toHaveProperty("cors_configuration");
    // AllViewerExceptHostHeader with caching disabled: every viewer header, Authorization included.
    expect(terraform.local("origin_request_policy_all_viewer_except_host")).toBe(
      "b689b0a8-53d0-40ab-baf2-68738e2966ac",
    );
  });
});

describe("the user pool (infra/identity.tf)", () => {
  it("the resource server's scopes are exactly SCOPES, as Cognito names them and the trigger renames them", () => {
    const server = terraform.resource("aws_cognito_resource_server", "api");
    expect(server.identifier).toBe("${local.resource_server_identifier}");
    expect(terraform.local("resource_server_identifier")).toBe(RESOURCE_SERVER_IDENTIFIER);
    const cognitoScopes = blocks(server.scope, "scope").map(
      (scope) => `${RESOURCE_SERVER_IDENTIFIER}/${asString(scope.scope_name, "scope_name")}`,
    );
    expect(cognitoScopes.sort()).toEqual(Object.values(COGNITO_SCOPE_OF).sort());
    expect(Object.keys(COGNITO_SCOPE_OF).sort()).toEqual([...ALL_SCOPES].sort());
  });

  it("the web client is public (no secret), code flow only, openid and the API scopes, back to the site only", () => {
    const client = terraform.resource("aws_cognito_user_pool_client", "web");
    expect(client.generate_secret).toBe(false);
    expect(client.allowed_oauth_flows_user_pool_client).toBe(true);
    expect(client.allowed_oauth_flows).toEqual(["code"]);
    expect(client.allowed_oauth_scopes).toBe(
      '${concat(["openid"], aws_cognito_resource_server.api.scope_identifiers)}',
    );
    expect(client.supported_identity_providers).toEqual(["COGNITO"]);
    expect(client.callback_urls).toBe("${local.web_redirect_urls}");
    const redirects = asStrings(terraform.local("web_redirect_urls"), "web_redirect_urls");
    expect(redirects.length).toBeGreaterThan(0);
    for (const url of redirects) expect(url.startsWith(`${SITE}/`), url).toBe(true);
    expect(client.logout_urls).toEqual([`${SITE}/`]);
    // No flow that sends a password as such, and none for a confidential client.
    for (const flow of asStrings(client.explicit_auth_flows, "explicit_auth_flows")) {
      expect(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]).toContain(flow);
    }
    expect(client.enable_token_revocation).toBe(true);
    expect(client.prevent_user_existence_errors).toBe("ENABLED");
  });

  it("the client's token lifetimes are stated: an hour for access and ID tokens, a bounded refresh token", () => {
    const client = terraform.resource("aws_cognito_user_pool_client", "web");
    const units = single(client.token_validity_units, "token_validity_units");
    expect({ access: client.access_token_validity, unit: units.access_token }).toEqual({
      access: 60,
      unit: "minutes",
    });
    expect({ id: client.id_token_validity, unit: units.id_token }).toEqual({ id: 60, unit: "minutes" });
    expect(units.refresh_token).toBe("hours");
    expect(client.refresh_token_validity).toBeGreaterThanOrEqual(1);
    expect(client.refresh_token_validity).toBeLessThanOrEqual(24);
  });

  it("the pool: deletion protection, optional TOTP MFA, invitation-only unless chosen, a long password, threat protection on Plus", () => {
    const pool = terraform.resource("aws_cognito_user_pool", "users");
    expect(pool.deletion_protection).toBe("ACTIVE");
    expect(pool.mfa_configuration).toBe("OPTIONAL");
    expect(single(pool.software_token_mfa_configuration, "software_token_mfa").enabled).toBe(true);
    expect(
      single(pool.admin_create_user_config, "admin_create_user_config").allow_admin_create_user_only,
    ).toBe("${!var.self_sign_up}");
    expect(terraform.variable("self_sign_up").default).toBe(false);
    expect(single(pool.password_policy, "password_policy").minimum_length).toBeGreaterThanOrEqual(12);
    expect(pool.user_pool_tier).toBe("${var.cognito_feature_plan}");
    expect(terraform.variable("cognito_feature_plan").default).toBe("ESSENTIALS");
    expect(single(pool.user_pool_add_ons, "user_pool_add_ons").advanced_security_mode).toBe(
      '${var.cognito_feature_plan == "PLUS" ? "ENFORCED" : "OFF"}',
    );
    const domain = terraform.resource("aws_cognito_user_pool_domain", "users");
    expect(domain.user_pool_id).toBe("${aws_cognito_user_pool.users.id}");
    expect(domain.managed_login_version).toBe(1);
  });

  it("the pre token generation trigger is the identity Lambda, with event version V2_0, invocable by this pool only", () => {
    const pool = terraform.resource("aws_cognito_user_pool", "users");
    const trigger = single(
      single(pool.lambda_config, "lambda_config").pre_token_generation_config,
      "pre_token_generation_config",
    );
    // Its `live` alias, which CodeDeploy moves (infra/deploy.tf), never $LATEST.
    expect(trigger.lambda_arn).toBe('${aws_lambda_alias.live["identity"].arn}');
    expect(trigger.lambda_version).toBe("V2_0");
    expect(LAMBDA_ENTRIES.find((entry) => entry.name === "identity")?.entryPath).toBe(
      "services/identity/handler.ts",
    );
    const permission = terraform.resource("aws_lambda_permission", "cognito_pre_token_generation");
    expect(permission.principal).toBe("cognito-idp.amazonaws.com");
    expect(permission.function_name).toBe('${aws_lambda_function.service["identity"].function_name}');
    expect(permission.qualifier).toBe('${aws_lambda_alias.live["identity"].name}');
    expect(permission.source_arn).toBe("${aws_cognito_user_pool.users.arn}");
    expect(terraform.resource("aws_cognito_user_group", "auditors").name).toBe(AUDITORS_GROUP);
  });

  it("the trigger's role may write its own log and its traces, and nothing else", () => {
    const allows = terraform
      .policyStatements("identity")
      .filter((statement) => statement.effect === "Allow" && statement.sid !== "WriteTraces");
    expect(allows.flatMap((statement) => statement.actions).sort()).toEqual([
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]);
    expect(allows.flatMap((statement) => statement.resources)).toEqual([
      '${aws_cloudwatch_log_group.lambda["identity"].arn}:*',
    ]);
    // Traces: X-Ray's two write actions, which name no resource (tests/unit/infra/iam.test.ts).
    const traces = terraform
      .policyStatements("identity")
      .find((statement) => statement.sid === "WriteTraces");
    expect(traces?.actions).toEqual(["xray:PutTraceSegments", "xray:PutTelemetryRecords"]);
  });

  it("the deploy role may manage the pool but never delete it", () => {
    const actions = terraform.policyStatements("deploy_identity").flatMap((statement) => statement.actions);
    expect(actions).toContain("cognito-idp:UpdateUserPool");
    expect(actions).not.toContain("cognito-idp:DeleteUserPool");
  });
});

describe("what the web UI and the deployer get (infra/identity.tf, infra/outputs.tf)", () => {
  it("config.json in the site bucket names the pool's issuer, the web client and the scopes to ask for", () => {
    const object = terraform.resource("aws_s3_object", "web_config");
    expect(object.bucket).toBe("${aws_s3_bucket.web.id}");
    expect(object.key).toBe("config.json");
    expect(object.content_type).toBe("application/json");
    expect(expressionOf(object.content, "content").replace(/\s+/g, " ")).toBe(
      'jsonencode({ auth = { authority = local.issuer clientId = aws_cognito_user_pool_client.web.id scope = join(" ", concat(["openid"], aws_cognito_resource_server.api.scope_identifiers)) } })',
    );
  });

  it("outputs the issuer, the hosted sign-in URL of the web client, the pool and the client", () => {
    expect(terraform.output("issuer").value).toBe("${local.issuer}");
    const login = asString(terraform.output("login_url").value, "login_url");
    expect(login.startsWith("${local.auth_origin}/login?")).toBe(true);
    expect(login).toContain("client_id=${aws_cognito_user_pool_client.web.id}");
    expect(login).toContain("response_type=code");
    expect(login).toContain('redirect_uri=${urlencode("${local.site_origin}/")}');
    expect(terraform.local("auth_origin")).toBe(
      "https://${local.auth_domain_prefix}.auth.${var.region}.amazoncognito.com",
    );
    expect(terraform.output("user_pool_id").value).toBe("${aws_cognito_user_pool.users.id}");
    expect(terraform.output("web_client_id").value).toBe("${aws_cognito_user_pool_client.web.id}");
  });
});

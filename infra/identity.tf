# Who may call the API (docs/api.md#access): a Cognito user pool with its hosted sign-in pages, the web UI's
# app client, the API's two scopes, the `auditors` group, and the trigger that turns group membership into
# `counter:audit` (docs/decisions.md#cognito-and-the-auditors-group-mapped-to-counteraudit). The JWT authorizer
# that checks the tokens on the API's routes is in api.tf; the UI learns all of this from `config.json`, below.
#
# Feature plan (`var.cognito_feature_plan`): the trigger customizes access tokens (event version V2_0), which
# Cognito offers from the Essentials plan up; Lite cannot run this configuration. At list prices when this was
# written, Essentials is free for the first 10,000 monthly active users and $0.015 per monthly active user
# beyond; Plus is $0.02 per monthly active user from the first one, and adds threat protection (compromised
# credentials, adaptive authentication), which this configuration then enforces. See infra/README.md.

locals {
  # Cognito names a resource server's scopes `<identifier>/<scope name>` in tokens: `counter/write` and
  # `counter/audit`. The trigger (services/identity/pre-token-generation.ts RESOURCE_SERVER_IDENTIFIER) turns
  # them into contract/auth.ts's `counter:write` and `counter:audit`, which is what the routes below require.
  resource_server_identifier = "counter"

  # The API scopes as access tokens carry them after the trigger: contract/auth.ts SCOPES.
  api_scopes = {
    write = "counter:write"
    audit = "counter:audit"
  }

  # A prefix domain must be unique in its region and may not contain "aws", "amazon" or "cognito".
  auth_domain_prefix = "${var.project}-${local.account_id}"
  auth_origin        = "https://${local.auth_domain_prefix}.auth.${var.region}.amazoncognito.com"

  # The pool's issuer: what the JWT authorizer and the web UI's OIDC client expect in `iss`.
  issuer = "https://${aws_cognito_user_pool.users.endpoint}"

  # Where the web UI's sign-in and silent renewal return to; every one on the site's own origin.
  web_redirect_urls = ["${local.site_origin}/", "${local.site_origin}/silent-renew.html"]
}

resource "aws_cognito_user_pool" "users" {
  name = var.project

  user_pool_tier = var.cognito_feature_plan
  # The users are data: a `terraform destroy` or a mistaken rename must not delete them (infra/README.md, Destroy).
  deletion_protection = "ACTIVE"

  # Sign-up by invitation only (`aws cognito-idp admin-create-user`) unless the deployer opens it.
  admin_create_user_config {
    allow_admin_create_user_only = !var.self_sign_up
  }

  username_configuration {
    case_sensitive = false
  }

  auto_verified_attributes = ["email"]

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  # Length is what makes a password hard to guess (NIST SP 800-63B); three character classes on top of 14
  # characters, no symbol rule.
  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = false
    temporary_password_validity_days = 3
  }

  # Each user may turn on an authenticator app (TOTP); no SMS, which needs an SNS role and costs per message.
  mfa_configuration = "OPTIONAL"

  software_token_mfa_configuration {
    enabled = true
  }

  # Threat protection exists only in the Plus plan; there it blocks risky sign-ins rather than only logging them.
  user_pool_add_ons {
    advanced_security_mode = var.cognito_feature_plan == "PLUS" ? "ENFORCED" : "OFF"
  }

  lambda_config {
    pre_token_generation_config {
      lambda_arn = aws_lambda_alias.live["identity"].arn
      # V2_0: access-token scopes of people's tokens (V3_0 adds machine-to-machine grants, which this API has none of).
      lambda_version = "V2_0"
    }
  }
}

# Managed login's domain. Version 1 is the hosted UI (classic): it serves every app client as soon as the domain
# exists. Version 2 (the newer managed login) serves only app clients that have a branding style, and the
# provider resource that makes one (aws_cognito_managed_login_branding) is in AWS provider 6.x, not the 5.x this
# configuration is pinned to (versions.tf).
resource "aws_cognito_user_pool_domain" "users" {
  domain                = local.auth_domain_prefix
  user_pool_id          = aws_cognito_user_pool.users.id
  managed_login_version = 1
}

# The API as an OAuth 2.0 resource server. Its scopes appear in tokens as `counter/write` and `counter/audit`
# until the trigger renames them.
resource "aws_cognito_resource_server" "api" {
  user_pool_id = aws_cognito_user_pool.users.id
  identifier   = local.resource_server_identifier
  name         = "${var.project} API"

  scope {
    scope_name        = "write"
    scope_description = "Change the number, and read one's own events by key."
  }

  scope {
    scope_name        = "audit"
    scope_description = "Read every event, the history with its keys, and the ledger's verification (auditors only)."
  }
}

# Cognito cannot limit a resource-server scope to a group: any user may ask for any scope the client allows. The
# pre token generation trigger grants `counter:audit` to this group's members only (services/identity).
resource "aws_cognito_user_group" "auditors" {
  user_pool_id = aws_cognito_user_pool.users.id
  name         = "auditors"
  description  = "May read the audit trail, every event and the ledger's verification (scope counter:audit)."
}

# The web UI: a public client (a browser keeps no secret), the authorization code flow only, which Cognito
# completes with PKCE when the client sends a code challenge (the UI's OIDC library always does).
resource "aws_cognito_user_pool_client" "web" {
  name         = "${var.project}-web"
  user_pool_id = aws_cognito_user_pool.users.id

  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = concat(["openid"], aws_cognito_resource_server.api.scope_identifiers)
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = local.web_redirect_urls
  logout_urls                          = ["${local.site_origin}/"]

  # Outside the hosted pages, only SRP sign-in and refresh: never a password sent as such.
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  # An access token lives an hour (a leaked one is worth little for long); the refresh token, held in the
  # tab's memory only, 12 hours. Refresh token rotation needs the provider's `refresh_token_rotation` block,
  # which AWS provider 5.x does not have (versions.tf): each refresh keeps the same refresh token until it expires.
  access_token_validity  = 60
  id_token_validity      = 60
  refresh_token_validity = 12

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "hours"
  }
}

# Cognito may invoke the trigger for this pool only.
resource "aws_lambda_permission" "cognito_pre_token_generation" {
  statement_id  = "AllowCognitoPreTokenGeneration"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.service["identity"].function_name
  qualifier     = aws_lambda_alias.live["identity"].name
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = aws_cognito_user_pool.users.arn
}

# The web UI's runtime configuration (the shape the local gateway serves too): it asks Cognito for the scopes by
# Cognito's names, and reads what it got from the access token's `scope` claim. The deploy's `s3 sync` leaves
# this object alone (--exclude config.json).
resource "aws_s3_object" "web_config" {
  bucket        = aws_s3_bucket.web.id
  key           = "config.json"
  content_type  = "application/json"
  cache_control = "no-cache"
  content = jsonencode({
    auth = {
      authority = local.issuer
      clientId  = aws_cognito_user_pool_client.web.id
      scope     = join(" ", concat(["openid"], aws_cognito_resource_server.api.scope_identifiers))
    }
  })
}

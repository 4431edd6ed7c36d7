# The edge's alarm: the 429s that WAF's rate rules answer (web.tf) before API Gateway sees the request, which
# the API's 429 alarm (alarms.tf, from the stage's access log) never counts.
#
# WAF publishes the metrics of a CloudFront-scoped web ACL in us-east-1 (namespace AWS/WAFV2), and an alarm reads
# only the metrics of its own region, so the alarm lives in us-east-1 (provider aws.us_east_1). An alarm can
# notify only an SNS topic of its own region too ("Invalid region … specified. Only us-west-2 is supported" when
# an alarm names a topic elsewhere: https://github.com/cds-snc/notification-terraform/pull/128), so the edge has
# a topic of its own there, built as the main one is (alarms.tf), by the same module (modules/alarm_topic):
# encrypted under a rotated customer managed key whose policy lets CloudWatch use it, published to only by
# CloudWatch alarms of this account, with the same `alarm_email` subscription. Its names carry `edge-` so that
# they never collide with the main topic's when var.region is us-east-1 itself. The site is always deployed
# (web.tf has no switch), so these always exist.
#
# Like the main topic, the edge topic and its key are read-only to the deploy pipeline (github-deploy.tf,
# AlarmsCannotBeSilenced); the alarm itself is the pipeline's to manage.

locals {
  edge_alarm_actions = [module.edge_alarm_topic.topic_arn]

  # The metrics of a CloudFront-scoped web ACL carry the dimensions WebACL (the web ACL's metric name) and Rule
  # (a rule's metric name, or ALL), and no Region dimension: a Region dimension on them matches no data
  # (https://github.com/cdklabs/cdk-monitoring-constructs/issues/681, fixed by pull 683; checked with
  # `aws cloudwatch list-metrics` in https://github.com/compiler-explorer/infra/pull/2357). AWS's own dimension
  # table (https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html) was not readable here:
  # confirm with `aws cloudwatch list-metrics --namespace AWS/WAFV2 --region us-east-1` after the first deploy.
  waf_web_acl_metric_name = aws_wafv2_web_acl.web.visibility_config[0].metric_name
  # Every rule of the web ACL (web.tf), by its metric name: the managed rule groups' and the rate rules'.
  waf_rule_metric_names = concat(
    [for name in keys(local.waf_managed_rule_groups) : "${var.project}-${name}"],
    values(local.waf_rate_rule_metric_names),
  )
  # The two rate rules of web.tf, whose blocks are 429s, by their metric names.
  waf_rate_rule_metric_names = {
    per_ip    = "${var.project}-rate-per-ip"
    per_token = "${var.project}-rate-per-token"
  }
}

# The edge's topic, built as the main one (modules/alarm_topic), in us-east-1. SNS mails the `alarm_email`
# address one confirmation link per topic.
module "edge_alarm_topic" {
  source = "./modules/alarm_topic"
  providers = {
    aws = aws.us_east_1
  }

  name            = "${var.project}-edge-alarms"
  key_description = "${var.project}: encrypts the edge's alarm topic (us-east-1)"
  email           = var.alarm_email
  account_id      = local.account_id
  partition       = local.partition
}

# The share of the requests WAF judged that its rate rules refused with a 429, once there are 20 a minute; the
# same threshold as the API's own 429 rate (var.api_429_rate_alarm_percent). A request WAF blocks is counted
# once, by the first rule that blocks it, so the two rules' blocks add up without overlap.
resource "aws_cloudwatch_metric_alarm" "waf_429_rate" {
  provider = aws.us_east_1

  alarm_name          = "${var.project}-waf-429-rate"
  alarm_description   = "More than ${var.api_429_rate_alarm_percent}% of the requests WAF judged were refused by its rate rules (429): docs/runbook.md#alarms."
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.api_429_rate_alarm_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.edge_alarm_actions
  ok_actions          = local.edge_alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= 20, 100 * (FILL(per_ip, 0) + FILL(per_token, 0)) / requests, 0)"
    label       = "WAF 429, % of requests"
    return_data = true
  }

  metric_query {
    id         = "requests"
    expression = "FILL(allowed, 0) + FILL(blocked, 0)"
    label      = "Requests WAF judged"
  }

  metric_query {
    id = "per_ip"
    metric {
      namespace   = "AWS/WAFV2"
      metric_name = "BlockedRequests"
      dimensions  = { WebACL = local.waf_web_acl_metric_name, Rule = local.waf_rate_rule_metric_names.per_ip }
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "per_token"
    metric {
      namespace   = "AWS/WAFV2"
      metric_name = "BlockedRequests"
      dimensions  = { WebACL = local.waf_web_acl_metric_name, Rule = local.waf_rate_rule_metric_names.per_token }
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "allowed"
    metric {
      namespace   = "AWS/WAFV2"
      metric_name = "AllowedRequests"
      dimensions  = { WebACL = local.waf_web_acl_metric_name, Rule = "ALL" }
      stat        = "Sum"
      period      = 60
    }
  }

  metric_query {
    id = "blocked"
    metric {
      namespace   = "AWS/WAFV2"
      metric_name = "BlockedRequests"
      dimensions  = { WebACL = local.waf_web_acl_metric_name, Rule = "ALL" }
      stat        = "Sum"
      period      = 60
    }
  }
}

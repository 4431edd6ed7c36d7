// Imported first by the command-line entry points (npm start, npm run verify). On Node 20 the AWS SDK prints a
// nine-line NodeVersionSupportWarning once per process: its releases after the first week of January 2027
// need Node 22. We run on Node 20 until then (package.json `engines`), and the README's "Run it" says so and
// recommends Node 22; the warning would only bury the first lines a user reads. The SDK's own switch, read
// when a client is created (@aws-sdk/core, emitWarningIfUnsupportedVersion), turns off that warning alone.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

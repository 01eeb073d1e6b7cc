package io.openshell.supervisor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command-line flags and OPENSHELL_* environment variables, mapped onto {@code openshell.supervisor}
 * config keys. A flag wins over its environment variable. Pure: takes the environment as a map so
 * tests need no process.
 */
public final class SupervisorArgs {

  public static final int USAGE_ERROR = 2;

  /** One setting that can come from a flag or an environment variable. */
  private record Option(String flag, String env, String configKey, boolean required) {}

  private static final List<Option> OPTIONS =
      List.of(
          new Option("--openshell-endpoint", "OPENSHELL_ENDPOINT", "endpoint", true),
          new Option("--sandbox-id", "OPENSHELL_SANDBOX_ID", "sandbox-id", true),
          new Option("--sandbox", "OPENSHELL_SANDBOX", "sandbox-name", false),
          new Option("--ssh-socket-path", "OPENSHELL_SSH_SOCKET_PATH", "ssh-socket-path", false),
          // A path (or "-" for stdin), never the secret itself: the environment is inherited by every
          // program the sandbox's SSH daemon runs.
          new Option("--sandbox-credential-file", "OPENSHELL_SANDBOX_CREDENTIAL_FILE", "credential-file", false));

  private static final List<String> TLS_ENV =
      List.of("OPENSHELL_TLS_CA", "OPENSHELL_TLS_CERT", "OPENSHELL_TLS_KEY");

  public static final String USAGE =
      "usage: openshell-supervisor --openshell-endpoint URL[,URL…] --sandbox-id ID [--sandbox NAME]"
          + " [--ssh-socket-path PATH] [--sandbox-credential-file PATH|-]\n"
          + "  env: OPENSHELL_ENDPOINT, OPENSHELL_SANDBOX_ID, OPENSHELL_SANDBOX,"
          + " OPENSHELL_SSH_SOCKET_PATH, OPENSHELL_SANDBOX_CREDENTIAL_FILE, OPENSHELL_LOG_LEVEL,\n"
          + "       OPENSHELL_TLS_CA (needed for https endpoints), OPENSHELL_TLS_CERT + OPENSHELL_TLS_KEY (optional client certificate)";

  public sealed interface Result {}

  /** Config overrides under {@code openshell.supervisor}, and the log level (null = default). */
  public record Parsed(Map<String, String> overrides, String logLevel) implements Result {}

  public record Help(String usage) implements Result {}

  /** One line for stderr; the process exits with {@code exitCode}. */
  public record Invalid(String message, int exitCode) implements Result {}

  private SupervisorArgs() {}

  public static Result parse(String[] args, Map<String, String> env) {
    Map<String, String> fromFlags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("-h") || arg.equals("--help")) {
        return new Help(USAGE);
      }
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      Option option = byFlag(name);
      if (option == null) {
        return new Invalid("unknown argument '" + arg + "' (try --help)", USAGE_ERROR);
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          return new Invalid(name + " needs a value", USAGE_ERROR);
        }
        value = args[++i];
      }
      fromFlags.put(option.configKey(), value);
    }

    Map<String, String> overrides = new LinkedHashMap<>();
    for (Option option : OPTIONS) {
      String value = fromFlags.get(option.configKey());
      if (value == null) {
        value = env.get(option.env());
      }
      if (value != null && !value.isBlank()) {
        overrides.put(option.configKey(), value.trim());
      } else if (option.required()) {
        return new Invalid(
            "missing required " + option.flag() + " (or env " + option.env() + ")", USAGE_ERROR);
      }
    }

    List<GatewayEndpoint> endpoints;
    try {
      endpoints = GatewayEndpoint.parseList(overrides.get("endpoint"));
    } catch (IllegalArgumentException e) {
      return new Invalid(e.getMessage(), USAGE_ERROR);
    }
    String ca = env.get(TLS_ENV.get(0));
    String cert = env.get(TLS_ENV.get(1));
    String key = env.get(TLS_ENV.get(2));
    for (GatewayEndpoint endpoint : endpoints) {
      if (endpoint.tls() && blank(ca)) {
        return new Invalid("cannot dial " + endpoint + ": https endpoints need OPENSHELL_TLS_CA (the CA file that signed"
            + " the gateway's certificate); the compute driver sets it", USAGE_ERROR);
      }
    }
    if (blank(cert) != blank(key)) {
      return new Invalid("OPENSHELL_TLS_CERT and OPENSHELL_TLS_KEY go together (a client certificate and its key); got only "
          + (blank(cert) ? "OPENSHELL_TLS_KEY" : "OPENSHELL_TLS_CERT"), USAGE_ERROR);
    }
    for (String name : TLS_ENV) {
      String file = env.get(name);
      if (blank(file)) continue;
      if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(file.trim()))) {
        return new Invalid("cannot read " + name + " " + file.trim(), USAGE_ERROR);
      }
      overrides.put("tls." + name.substring("OPENSHELL_TLS_".length()).toLowerCase(java.util.Locale.ROOT), file.trim());
    }

    String logLevel = blank(env.get("OPENSHELL_LOG_LEVEL")) ? null : env.get("OPENSHELL_LOG_LEVEL").trim();
    return new Parsed(Map.copyOf(overrides), logLevel);
  }

  private static Option byFlag(String flag) {
    return OPTIONS.stream().filter(o -> o.flag().equals(flag)).findFirst().orElse(null);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}

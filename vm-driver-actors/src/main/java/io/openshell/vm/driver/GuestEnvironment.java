package io.openshell.vm.driver;

import io.openshell.protocol.compute.v1.DriverSandbox;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The supervisor's environment inside the guest: driver defaults first, then the template's
 * environment, then the sandbox spec's (the spec wins). Pure.
 */
public final class GuestEnvironment {
  private GuestEnvironment() {}

  public static final String SSH_SOCKET = "/run/openshell/ssh.sock";
  public static final String TLS_DIR = "/opt/openshell/tls";
  /** The supervisor credential in the guest: a sibling of the TLS material, 0600, owned by the supervisor's user. */
  public static final String CREDENTIAL_FILE = "/opt/openshell/credential/supervisor";
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  /** {@code tls}: the guest has all of ca.crt, tls.crt and tls.key. */
  public static Map<String, String> of(DriverSandbox sandbox, String guestEndpoint, boolean tls) {
    return of(sandbox, guestEndpoint, tls ? new VmDriverSettings.TlsMaterial("ca", "cert", "key") : VmDriverSettings.TlsMaterial.NONE);
  }

  /** The TLS paths name only the files {@code tls} copies into the guest. */
  public static Map<String, String> of(DriverSandbox sandbox, String guestEndpoint, VmDriverSettings.TlsMaterial tls) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("HOME", "/sandbox");
    env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env.put("TERM", "xterm-256color");
    env.put("USER", "sandbox");
    env.put("OPENSHELL_ENDPOINT", guestEndpoint);
    env.put("OPENSHELL_SANDBOX_ID", sandbox.getId());
    env.put("OPENSHELL_SANDBOX", sandbox.getName());
    env.put("OPENSHELL_SSH_SOCKET_PATH", SSH_SOCKET);
    String logLevel = sandbox.getSpec().getLogLevel();
    env.put("OPENSHELL_LOG_LEVEL", logLevel.isEmpty() ? "info" : logLevel);
    if (!tls.ca().isEmpty()) env.put("OPENSHELL_TLS_CA", TLS_DIR + "/ca.crt");
    if (!tls.cert().isEmpty()) {
      env.put("OPENSHELL_TLS_CERT", TLS_DIR + "/tls.crt");
      env.put("OPENSHELL_TLS_KEY", TLS_DIR + "/tls.key");
    }
    env.putAll(sandbox.getSpec().getTemplate().getEnvironmentMap());
    env.putAll(sandbox.getSpec().getEnvironmentMap());
    // After the spec's env: a spec cannot point the supervisor at a credential of its choosing.
    env.remove("OPENSHELL_SANDBOX_CREDENTIAL_FILE");
    if (!sandbox.getSpec().getSupervisorCredential().isEmpty()) env.put("OPENSHELL_SANDBOX_CREDENTIAL_FILE", CREDENTIAL_FILE);
    return env;
  }

  /** Why a sandbox's environment cannot be written into the guest's init, or null when it can. */
  public static String problem(DriverSandbox sandbox) {
    for (Map<String, String> env : java.util.List.of(sandbox.getSpec().getTemplate().getEnvironmentMap(),
        sandbox.getSpec().getEnvironmentMap())) {
      for (Map.Entry<String, String> entry : env.entrySet()) {
        if (!NAME.matcher(entry.getKey()).matches()) {
          return "environment variable name '" + entry.getKey() + "' is not valid: use letters, digits and '_'";
        }
        if (entry.getValue().indexOf('\0') >= 0) {
          return "environment variable '" + entry.getKey() + "' contains a NUL byte";
        }
      }
    }
    return null;
  }

  /** {@code export NAME='value'} lines the guest init sources; single quotes make every value literal. */
  public static String exports(Map<String, String> env) {
    StringBuilder out = new StringBuilder();
    env.forEach((name, value) -> out.append("export ").append(name).append('=').append(quote(value)).append('\n'));
    return out.toString();
  }

  static String quote(String value) {
    return "'" + value.replace("'", "'\\''") + "'";
  }
}

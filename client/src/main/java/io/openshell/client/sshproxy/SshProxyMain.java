package io.openshell.client.sshproxy;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.connection.GatewaySelection;
import io.openshell.client.connection.GatewayTls;
import io.openshell.client.sshsession.SshSession;
import io.openshell.client.sshsession.SshSessions;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import javax.net.ssl.SSLSocketFactory;

/**
 * {@code openshell ssh-proxy}: ssh's ProxyCommand. Opens the gateway's SSH tunnel with a raw
 * {@code CONNECT <path> HTTP/1.1} and then copies bytes between ssh (stdin/stdout) and the tunnel.
 *
 * <p>ssh starts one for every connection, so it is its own main class that loads neither picocli nor Pekko:
 * token mode touches only JDK sockets; name mode adds grpc-java, and only when no cached session is left.
 */
public final class SshProxyMain {
  static final String USAGE = """
      usage: openshell ssh-proxy --gateway URL --sandbox-id ID --token TOKEN
             openshell ssh-proxy --gateway-name GATEWAY --name SANDBOX
        --gateway URL        the tunnel, e.g. https://127.0.0.1:8080/connect/ssh (path defaults to /connect/ssh)
        --gateway-name NAME  'local' (the CLI's local gateway) or a gateway URL; the session is minted and cached
        --name SANDBOX       the sandbox, by name
      An https tunnel is verified with OPENSHELL_TLS_CA, else the local gateway's CA.
      Meant as ssh's ProxyCommand (see 'openshell sandbox ssh-config'); bytes flow on stdin/stdout.""";

  private static final String DEFAULT_CONNECT_PATH = "/connect/ssh";

  private SshProxyMain() {}

  public static void main(String[] args) {
    PrintStream stderr = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
    // Unbuffered descriptors: every byte ssh writes goes to the tunnel at once, and back.
    System.exit(run(args, Environment.current(), new FileInputStream(FileDescriptor.in), new FileOutputStream(FileDescriptor.out), stderr));
  }

  /** Runs the proxy to the end of the tunnel; returns the exit code (0 tunnel ended, 1 failure, 2 usage). */
  public static int run(String[] args, Environment environment, InputStream stdin, OutputStream stdout, PrintStream stderr) {
    Arguments arguments;
    try {
      arguments = Arguments.parse(args);
    } catch (IllegalArgumentException e) {
      stderr.println("error: " + e.getMessage());
      stderr.println(USAGE);
      return 2;
    }
    if (arguments.help) {
      stderr.println(USAGE);
      return 0;
    }
    try {
      SessionSource source = arguments.tokenMode()
          ? new SessionSource.Given(tokenModeSession(arguments))
          : NamedSessionSource.inStateDir(environment, arguments.gatewayName, arguments.name);
      boolean local = !arguments.tokenMode() && GatewaySelection.LOCAL.equals(arguments.gatewayName);
      // Read only when the tunnel is https: a plaintext tunnel loads no TLS at all.
      Supplier<SSLSocketFactory> tls = () -> GatewayTls.forTunnel(environment, local)
          .map(files -> files.sslContext().getSocketFactory())
          .orElseGet(() -> (SSLSocketFactory) SSLSocketFactory.getDefault());
      return connectAndBridge(source, tls, stdin, stdout, stderr);
    } catch (CliException e) {
      stderr.println("error: " + e.getMessage());
      return 1;
    }
  }

  /** With the JDK's default trust for https tunnels. */
  static int connectAndBridge(SessionSource source, InputStream stdin, OutputStream stdout, PrintStream stderr) {
    return connectAndBridge(source, () -> (SSLSocketFactory) SSLSocketFactory.getDefault(), stdin, stdout, stderr);
  }

  /** CONNECT (retrying only while the sandbox is not ready), then bridge until the tunnel ends. */
  static int connectAndBridge(SessionSource source, Supplier<SSLSocketFactory> tls, InputStream stdin, OutputStream stdout,
      PrintStream stderr) {
    long started = System.nanoTime();
    int refusals = 0;
    while (true) {
      String notReady;
      SshSession session = null;
      try {
        session = source.current();
        Tunnel tunnel = Tunnel.open(session, tls);
        int status = tunnel.response().status();
        if (status == 200) {
          try (tunnel) {
            Bridge.run(tunnel.socket(), tunnel.response().afterHead(), stdin, stdout);
          }
          return 0;
        }
        tunnel.close();
        // 401: the cached token is no longer good. 429: its three connections are taken by this
        // machine's other ssh sessions (name mode shares one cached token). Either way a fresh token.
        if ((status == 401 || status == 429) && source.replacing(session) != null) continue;
        if (status != 412) {
          stderr.println("error: gateway CONNECT failed with status " + status);
          return 1;
        }
        notReady = "gateway CONNECT failed with status 412 (sandbox not ready)";
      } catch (SshSessions.NotReady e) {
        notReady = e.getMessage();
      } catch (IOException e) {
        stderr.println("error: " + (session == null ? "" : "tunnel to " + session.scheme() + "://" + session.authority() + ": ")
            + e.getMessage());
        return 1;
      }
      refusals++;
      Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
      Optional<Duration> delay = ConnectRetry.delayAfter(refusals, elapsed);
      if (delay.isEmpty()) {
        stderr.println("error: " + notReady + "; gave up after " + elapsed.toSeconds() + " s");
        return 1;
      }
      stderr.println("openshell ssh-proxy: " + notReady + "; retrying in " + delay.get().toSeconds() + " s");
      pause(delay.get());
    }
  }

  /** {@code --gateway scheme://host:port[/connect-path]} plus id and token, held to the same contract as a minted session. */
  static SshSession tokenModeSession(Arguments arguments) {
    URI uri;
    try {
      uri = URI.create(arguments.gateway);
    } catch (IllegalArgumentException e) {
      throw new CliException("--gateway '" + arguments.gateway + "' is not a URL");
    }
    if (uri.getHost() == null) throw new CliException("--gateway '" + arguments.gateway + "' has no host (use http://host:port)");
    String scheme = uri.getScheme();
    long port = uri.getPort() > 0 ? uri.getPort() : "https".equals(scheme) ? 443 : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/")
        ? DEFAULT_CONNECT_PATH : uri.getRawPath();
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new CliException("--gateway '" + arguments.gateway + "' must not have a query or fragment");
    }
    return SshSession.validated("the command line", arguments.sandboxId, arguments.token, uri.getHost(), port, scheme, path, 0);
  }

  /** A retry delay, not coordination: nothing tells this process when the sandbox becomes ready. */
  private static void pause(Duration delay) {
    long deadline = System.nanoTime() + delay.toNanos();
    for (long left = delay.toNanos(); left > 0; left = deadline - System.nanoTime()) LockSupport.parkNanos(left);
  }

  /** The command line, parsed by hand: picocli would cost startup time on every ssh connection. */
  static final class Arguments {
    String gateway;
    String sandboxId;
    String token;
    String gatewayName;
    String name;
    boolean help;

    static Arguments parse(String[] args) {
      Arguments parsed = new Arguments();
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        if (arg.equals("-h") || arg.equals("--help")) {
          parsed.help = true;
          continue;
        }
        String option = arg;
        String value = null;
        int equals = arg.indexOf('=');
        if (arg.startsWith("--") && equals > 0) {
          option = arg.substring(0, equals);
          value = arg.substring(equals + 1);
        }
        if (!option.equals("--gateway") && !option.equals("--sandbox-id") && !option.equals("--token")
            && !option.equals("--gateway-name") && !option.equals("--name")) {
          throw new IllegalArgumentException("unknown argument '" + arg + "'");
        }
        if (value == null) {
          if (i + 1 >= args.length) throw new IllegalArgumentException(option + " needs a value");
          value = args[++i];
        }
        switch (option) {
          case "--gateway" -> parsed.gateway = value;
          case "--sandbox-id" -> parsed.sandboxId = value;
          case "--token" -> parsed.token = value;
          case "--gateway-name" -> parsed.gatewayName = value;
          default -> parsed.name = value;
        }
      }
      if (parsed.help) return parsed;
      boolean anyToken = parsed.gateway != null || parsed.sandboxId != null || parsed.token != null;
      boolean anyName = parsed.gatewayName != null || parsed.name != null;
      if (anyToken && anyName) throw new IllegalArgumentException("use either --gateway/--sandbox-id/--token or --gateway-name/--name");
      if (anyToken && (parsed.gateway == null || parsed.sandboxId == null || parsed.token == null)) {
        throw new IllegalArgumentException("token mode needs --gateway, --sandbox-id and --token");
      }
      if (anyName && (parsed.gatewayName == null || parsed.name == null)) {
        throw new IllegalArgumentException("name mode needs --gateway-name and --name");
      }
      if (!anyToken && !anyName) throw new IllegalArgumentException("missing arguments");
      return parsed;
    }

    boolean tokenMode() {
      return gateway != null;
    }
  }
}

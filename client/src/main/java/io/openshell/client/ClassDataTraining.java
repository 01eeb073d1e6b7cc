package io.openshell.client;

import io.openshell.client.connection.Environment;
import io.openshell.client.sshproxy.SshProxyMain;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Map;

/**
 * The training run behind the CLI's application class-data archive: {@code ./openshell} runs this class once
 * per built jar with {@code -XX:ArchiveClassesAtExit}, and every later CLI JVM maps the archive instead of
 * loading, verifying and linking picocli, logback, Pekko and gRPC class by class (most of a command's
 * start-up). It runs the commands people run most against an address where nothing listens (loopback port
 * 1: refused at once), in an empty environment and a throwaway home, so it touches no real state and starts
 * no gateway; the failure path still loads the parser, the actor system, the gRPC client and its transport.
 * Then {@code status} and {@code ssh-proxy} once each over TLS against a throwaway loopback server
 * ({@link TrainingTlsServer}), since the default gateway is TLS. ssh-proxy maps the same archive (the
 * launcher starts it with the same flags and class path), so its classes are trained here as well.
 */
public final class ClassDataTraining {
  private static final String NOWHERE = "http://127.0.0.1:1";
  private static final List<List<String>> COMMANDS = List.of(
      List.of("status", "--gateway-endpoint", NOWHERE),
      List.of("sandbox", "list", "--gateway-endpoint", NOWHERE),
      List.of("sandbox", "get", "training", "--gateway-endpoint", NOWHERE),
      List.of("--help"));

  private ClassDataTraining() {}

  public static void main(String[] args) throws IOException {
    org.slf4j.LoggerFactory.getILoggerFactory();
    Path home = Files.createTempDirectory("openshell-cli-class-data-");
    Environment environment = new Environment(Map.of(), home.toString());
    PrintWriter discard = new PrintWriter(Writer.nullWriter());
    for (List<String> command : COMMANDS) Main.run(command.toArray(String[]::new), environment, discard, discard);
    try (TrainingTlsServer tls = TrainingTlsServer.start(Files.createDirectories(home.resolve("tls")))) {
      Environment withTls = new Environment(tls.variables(), home.toString());
      Main.run(new String[] {"status", "--gateway-endpoint", tls.url()}, withTls, discard, discard);
      SshProxyMain.run(new String[] {"--gateway", tls.url(), "--sandbox-id", "training", "--token", "training"}, withTls,
          InputStream.nullInputStream(), OutputStream.nullOutputStream(), new PrintStream(OutputStream.nullOutputStream()));
    } catch (IOException | GeneralSecurityException | InterruptedException e) {
      // Without keytool (a JRE without it) the archive only lacks the TLS classes: a slower TLS start, nothing else.
    }
    try (var paths = Files.walk(home)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
    // The archive is written at JVM exit; exit now rather than wait for the actor systems' non-daemon threads.
    System.exit(0);
  }
}

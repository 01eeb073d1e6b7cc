package io.openshell.client;

import io.openshell.client.connection.Environment;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The training run behind the CLI's application class-data archive: {@code ./openshell} runs this class once
 * per built jar with {@code -XX:ArchiveClassesAtExit}, and every later CLI JVM maps the archive instead of
 * loading, verifying and linking picocli, logback, Pekko and gRPC class by class (most of a command's
 * start-up). It runs the commands people run most against an address where nothing listens (loopback port
 * 1: refused at once), in an empty environment and a throwaway home, so it touches no real state and starts
 * no gateway; the failure path still loads the parser, the actor system, the gRPC client and its transport.
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
    try (var paths = Files.walk(home)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
    // The archive is written at JVM exit; exit now rather than wait for the actor systems' non-daemon threads.
    System.exit(0);
  }
}

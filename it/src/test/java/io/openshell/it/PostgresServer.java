package io.openshell.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL server from Debian's {@code postgresql} package (.ci/run installs it): a new
 * cluster in a temp directory (initdb), on a free loopback port, run as the {@code postgres} user when
 * the tests run as root (initdb refuses root), stopped by its pid when the suite ends.
 */
final class PostgresServer implements AutoCloseable {
  private static final String USER = "openshell";

  final int port;
  final Path dataDir;
  private final Process process;

  private PostgresServer(int port, Path dataDir, Process process) {
    this.port = port;
    this.dataDir = dataDir;
    this.process = process;
  }

  /** The server's bin directory (initdb, postgres), or empty when PostgreSQL is not installed. */
  static Optional<Path> binaries() {
    Path lib = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(lib)) return Optional.empty();
    try (Stream<Path> versions = Files.list(lib)) {
      return versions.map(v -> v.resolve("bin"))
          .filter(bin -> Files.isExecutable(bin.resolve("initdb")) && Files.isExecutable(bin.resolve("postgres")))
          .max(Comparator.comparing(Path::toString));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  static PostgresServer start(Path bin) throws Exception {
    Path dir = Files.createTempDirectory("openshell-pg");
    Path data = dir.resolve("data");
    Path sockets = dir.resolve("sockets");
    Files.createDirectories(sockets);
    boolean root = "root".equals(System.getProperty("user.name"));
    if (root) run(List.of("chown", "-R", "postgres:postgres", dir.toString()));
    run(asServerUser(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER,
        "--auth=trust", "--encoding=UTF8", "--no-sync")));
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Path log = dir.resolve("postgres.log");
    // Durability is not what these tests measure: fsync off keeps a loaded 2-core machine fast.
    Process server = new ProcessBuilder(asServerUser(root, List.of(bin.resolve("postgres").toString(), "-D", data.toString(),
        "-p", Integer.toString(port), "-h", "127.0.0.1", "-k", sockets.toString(), "-c", "fsync=off",
        "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    PostgresServer pg = new PostgresServer(port, data, server);
    String[] lastError = {""};
    boolean up = Awaits.poll(Duration.ofSeconds(60), () -> {
      if (!server.isAlive()) return false;
      try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", USER, "")) {
        return c.isValid(5);
      } catch (SQLException e) {
        lastError[0] = e.getMessage();
        return false;
      }
    });
    if (!up) {
      pg.close();
      throw new AssertionError("PostgreSQL did not start on port " + port + ": " + lastError[0] + "\n" + Files.readString(log));
    }
    return pg;
  }

  /** Creates an empty database and returns the gateway's {@code --db-url} for it. */
  String createDatabase(String name) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", USER, "");
        var statement = c.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    }
    return "postgresql://" + USER + "@127.0.0.1:" + port + "/" + name;
  }

  Connection connect(String database) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, USER, "");
  }

  private static List<String> asServerUser(boolean root, List<String> command) {
    if (!root) return command;
    List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
        "--pdeathsig", "KILL"));
    wrapped.addAll(command);
    return wrapped;
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + " failed:\n" + out);
    }
  }

  /** Fast shutdown (SIGINT: disconnect clients, stop) by pid, then SIGKILL if it lingers; removes the files. */
  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      Processes.kill(process.pid(), "INT");
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }
    try (Stream<Path> files = Files.walk(dataDir.getParent())) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}

package io.openshell.it;

import io.openshell.gateway.persistence.DatabaseUrl;
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
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The PostgreSQL server a cluster test class runs on, with a fresh database per class.
 *
 * <p>When {@value #URL_VARIABLE} is set (.ci/run starts a server from Debian's {@code postgresql}
 * package and exports it) that server is used and only the class's databases are dropped at the end.
 * Otherwise (a developer's run) a throwaway server is started from the same package's binaries: a new
 * cluster in a temp directory (initdb), on a free loopback port, run as the {@code postgres} user when
 * the tests run as root (initdb refuses root), stopped by its pid when the class ends. With neither,
 * the class is skipped, said loudly on stderr and as the assumption's reason.
 */
final class PostgresServer implements AutoCloseable {
  /** {@code postgresql://user[:password]@host:port/db}: a role that may create databases. */
  static final String URL_VARIABLE = "OPENSHELL_TEST_POSTGRES_URL";
  private static final String USER = "openshell";

  /** A database of this server: its name and the gateway's {@code --db-url} for it. */
  record Database(String name, String url) {}

  private final String host;
  final int port;
  private final String user;
  private final String password;
  /** The throwaway server's process and files; null for the server .ci/run started. */
  private final Process process;
  private final Path dir;
  private final List<String> created = new ArrayList<>();

  private PostgresServer(String host, int port, String user, String password, Process process, Path dir) {
    this.host = host;
    this.port = port;
    this.user = user;
    this.password = password;
    this.process = process;
    this.dir = dir;
  }

  /**
   * The server for {@code suite}: the exported one, else a throwaway one; skips the calling test class
   * (a JUnit assumption with the reason, and a banner on stderr) when PostgreSQL is not installed.
   */
  static PostgresServer forSuite(String suite) throws Exception {
    String url = System.getenv(URL_VARIABLE);
    if (url != null && !url.isBlank()) return external(url.trim());
    Optional<Path> bin = binaries();
    if (bin.isEmpty()) {
      String why = suite + " SKIPPED: no PostgreSQL server is installed (/usr/lib/postgresql/*/bin) and "
          + URL_VARIABLE + " is not set; install Debian's postgresql package (.ci/run does and starts one)";
      System.err.println("!".repeat(100) + "\n" + why + "\n" + "!".repeat(100));
      Assumptions.assumeTrue(false, why);
    }
    return start(bin.get());
  }

  private static PostgresServer external(String url) throws SQLException {
    DatabaseUrl parsed = DatabaseUrl.parse(url, Path.of("/tmp"));
    if (parsed.kind() != DatabaseUrl.Kind.POSTGRES) {
      throw new IllegalArgumentException(URL_VARIABLE + " must be postgresql://user@host:port/db, not " + url);
    }
    java.net.URI jdbc = java.net.URI.create(parsed.jdbcUrl().substring("jdbc:".length()));
    PostgresServer server = new PostgresServer(jdbc.getHost(), jdbc.getPort() < 0 ? 5432 : jdbc.getPort(),
        parsed.user(), parsed.password(), null, null);
    try (Connection c = server.connectTo("postgres")) {
      if (!c.isValid(10)) throw new SQLException("connection not valid");
    } catch (SQLException e) {
      throw new AssertionError(URL_VARIABLE + "=" + url + " is set but the server does not answer: " + e.getMessage(), e);
    }
    return server;
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
    PostgresServer pg = new PostgresServer("127.0.0.1", port, USER, "", server, dir);
    String[] lastError = {""};
    boolean up = Awaits.poll(Duration.ofSeconds(60), () -> {
      if (!server.isAlive()) return false;
      try (Connection c = pg.connectTo("postgres")) {
        return c.isValid(5);
      } catch (SQLException e) {
        lastError[0] = e.getMessage();
        return false;
      }
    });
    if (!up) {
      String output = Files.readString(log);
      pg.close();
      throw new AssertionError("PostgreSQL did not start on port " + port + ": " + lastError[0] + "\n" + output);
    }
    return pg;
  }

  /** True when this is the server .ci/run started (not this class's own). */
  boolean shared() {
    return process == null;
  }

  /**
   * Creates an empty database named {@code prefix} plus a random suffix (test classes may share one
   * server) and returns it with the gateway's {@code --db-url} for it.
   */
  Database createDatabase(String prefix) throws SQLException {
    String name = prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    try (Connection c = connectTo("postgres"); var statement = c.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    }
    created.add(name);
    String credentials = password.isEmpty() ? user : user + ":" + password;
    return new Database(name, "postgresql://" + credentials + "@" + host + ":" + port + "/" + name);
  }

  Connection connect(Database database) throws SQLException {
    return connectTo(database.name());
  }

  private Connection connectTo(String database) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + database, user, password);
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

  /**
   * The shared server: drops this class's databases (FORCE: a killed gateway's connections may linger),
   * so a long CI run does not pile them up. The throwaway server: fast shutdown (SIGINT: disconnect
   * clients, stop) by pid, then SIGKILL if it lingers, and its files removed.
   */
  @Override
  public void close() throws Exception {
    if (shared()) {
      try (Connection c = connectTo("postgres"); var statement = c.createStatement()) {
        for (String name : created) statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      }
      return;
    }
    if (process.isAlive()) {
      Processes.kill(process.pid(), "INT");
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}

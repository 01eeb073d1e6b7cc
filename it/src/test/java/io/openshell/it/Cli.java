package io.openshell.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real CLI jar as a user would, in a private HOME and XDG state/config. */
final class Cli {
  record Result(int exitCode, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }

  final Path home;
  final Map<String, String> env = new HashMap<>();

  Cli(Path home) throws IOException {
    this.home = home;
    Files.createDirectories(home);
    env.put("HOME", home.toString());
    env.put("XDG_STATE_HOME", home.resolve("state").toString());
    env.put("XDG_CONFIG_HOME", home.resolve("config").toString());
  }

  Path localGatewayStateDir() {
    return home.resolve("state").resolve("openshell").resolve("gateway");
  }

  Result run(String... args) throws IOException, InterruptedException {
    return runWithInput(Path.of("/dev/null"), args);
  }

  /** Runs with stdin read from {@code stdin} (a file, so the CLI sees a pipe-like non-terminal). */
  Result runWithInput(Path stdin, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Repo.java(), "-Dopenshell.home=" + Repo.root(), "-jar",
        Repo.jar("client", "openshell-cli").toString()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(home, "stdout", ".txt");
    Path err = Files.createTempFile(home, "stderr", ".txt");
    ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(stdin.toFile()));
    builder.environment().remove("OPENSHELL_GATEWAY_ENDPOINT");
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(400, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("openshell " + String.join(" ", args) + " did not finish");
    }
    return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }
}

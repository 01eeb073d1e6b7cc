package io.openshell.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the built artifacts of this checkout are (the it module runs after every other module's package). */
final class Repo {
  private Repo() {}

  static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("gateway-actors"))) dir = dir.getParent();
    if (dir == null) throw new IllegalStateException("cannot find the repository root from " + Path.of("").toAbsolutePath());
    return dir;
  }

  static Path jar(String module, String name) {
    Path jar = root().resolve(module).resolve("target").resolve(name + ".jar");
    if (!Files.exists(jar)) throw new IllegalStateException(jar + " is missing: run mvn package first");
    return jar;
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A JDK tool (jcmd, …) next to the java running the tests. */
  static String javaTool(String name) {
    return Path.of(System.getProperty("java.home"), "bin", name).toString();
  }
}

package io.openshell.gateway.sandbox;

import java.util.List;
import java.util.random.RandomGenerator;

/** Two-word {@code adjective-noun} names for sandboxes created without one. */
public final class NameGenerator {
  private static final List<String> ADJECTIVES = List.of(
      "amber", "brave", "calm", "clever", "cosmic", "crisp", "daring", "eager", "fancy", "gentle",
      "golden", "happy", "humble", "jolly", "keen", "lively", "lucky", "merry", "mighty", "misty",
      "nimble", "noble", "polite", "proud", "quick", "quiet", "rapid", "rustic", "shiny", "silent",
      "sleek", "smart", "snowy", "solid", "spry", "steady", "sunny", "swift", "tidy", "vivid",
      "warm", "wise", "witty", "zesty", "bold", "bright", "cheery", "dapper", "fuzzy", "grand");
  private static final List<String> NOUNS = List.of(
      "badger", "beacon", "canyon", "cedar", "comet", "coral", "crane", "delta", "dolphin", "ember",
      "falcon", "fern", "fjord", "forest", "galaxy", "glacier", "harbor", "heron", "island", "jaguar",
      "koala", "lagoon", "lantern", "maple", "meadow", "meteor", "nebula", "oasis", "otter", "panda",
      "pebble", "pine", "planet", "prairie", "quartz", "raven", "reef", "river", "sparrow", "summit",
      "tiger", "tundra", "valley", "walrus", "willow", "wombat", "yak", "zephyr", "orchid", "puffin");

  private final RandomGenerator random;

  public NameGenerator(RandomGenerator random) {
    this.random = random;
  }

  public String next() {
    return ADJECTIVES.get(random.nextInt(ADJECTIVES.size())) + "-" + NOUNS.get(random.nextInt(NOUNS.size()));
  }
}

package io.openshell.gateway.sandbox;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.grpc.Status;
import io.openshell.gateway.CborSerializable;

/**
 * A refusal with the gRPC status code the API must answer with. Carried in {@code StatusReply.error}
 * so the one place that maps failures to gRPC (the service adapter) keeps the code. Serializable
 * (code and message only): in a cluster the answer often comes from an entity on another node.
 */
@JsonIgnoreProperties(value = {"stackTrace", "localizedMessage", "suppressed", "cause"}, ignoreUnknown = true)
public final class SandboxProblem extends RuntimeException implements CborSerializable {
  private final Status.Code code;

  @JsonCreator
  public SandboxProblem(@JsonProperty("code") Status.Code code, @JsonProperty("message") String message) {
    super(message, null, false, false);
    this.code = code;
  }

  @JsonProperty("code")
  public Status.Code code() {
    return code;
  }

  @JsonProperty("message")
  @Override
  public String getMessage() {
    return super.getMessage();
  }
}

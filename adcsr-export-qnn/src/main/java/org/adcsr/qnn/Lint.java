package org.adcsr.qnn;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.ValueInfoProto;
import org.adcsr.onnx.OnnxExport;

/**
 * Checks an exported float graph and its encodings against the HTP constraints of QNN.md §2 and §5. Each problem is
 * one line naming the tensor or node; an empty list means the export passes.
 */
final class Lint {
    /** The ops §2 allows in the float graph. */
    static final Set<String> OPS = Set.of("Conv", "MatMul", "Add", "Mul", "Div", "Erf", "Sigmoid", "Softmax",
            "LayerNormalization", "InstanceNormalization", "Reshape", "Transpose", "Concat", "Split", "Resize",
            "SpaceToDepth");
    static final int MAX_RANK = 5;

    private Lint() {
    }

    static List<String> graph(ModelProto m) {
        List<String> p = new ArrayList<>();
        long opset = m.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty()).mapToLong(o -> o.getVersion())
                .findFirst().orElse(-1);
        if (opset != OnnxExport.FLOAT.opset()) {
            p.add("opset " + opset + ", expected " + OnnxExport.FLOAT.opset());
        }
        Map<String, Integer> rank = new HashMap<>();
        List<ValueInfoProto> values = new ArrayList<>(m.getGraph().getInputList());
        values.addAll(m.getGraph().getOutputList());
        values.addAll(m.getGraph().getValueInfoList());
        for (ValueInfoProto v : values) {
            if (!v.getType().getTensorType().hasShape()) {
                p.add(v.getName() + ": no static shape");
                continue;
            }
            TensorShapeProto s = v.getType().getTensorType().getShape();
            rank.put(v.getName(), s.getDimCount());
            if (s.getDimCount() > MAX_RANK) {
                p.add(v.getName() + ": rank " + s.getDimCount() + " > " + MAX_RANK);
            }
            for (TensorShapeProto.Dimension d : s.getDimList()) {
                if (!d.hasDimValue() || d.getDimValue() <= 0) {
                    p.add(v.getName() + ": dynamic dimension " + (d.hasDimParam() ? d.getDimParam() : "?"));
                    break;
                }
            }
        }
        for (TensorProto t : m.getGraph().getInitializerList()) {
            rank.put(t.getName(), t.getDimsCount());
            if (t.getDimsCount() > MAX_RANK) {
                p.add(t.getName() + ": rank " + t.getDimsCount() + " > " + MAX_RANK);
            }
        }
        for (NodeProto n : m.getGraph().getNodeList()) {
            String where = n.getOpType() + " " + n.getName();
            if (!OPS.contains(n.getOpType())) {
                p.add(where + ": op not in the HTP list of QNN.md §2");
            }
            for (String o : n.getOutputList()) {
                if (!rank.containsKey(o)) {
                    p.add(where + ": output " + o + " has no declared shape");
                }
            }
            Map<String, AttributeProto> a = new HashMap<>();
            n.getAttributeList().forEach(x -> a.put(x.getName(), x));
            int r = rank.getOrDefault(n.getInput(0), -1);
            switch (n.getOpType()) {
                case "Softmax", "LayerNormalization" -> {
                    long axis = a.containsKey("axis") ? a.get("axis").getI() : -1;
                    if (axis != -1 && axis != r - 1) {
                        p.add(where + ": axis " + axis + ", HTP supports only the last axis");
                    }
                    if (r > 4) {
                        p.add(where + ": rank " + r + " > 4");
                    }
                }
                case "MatMul" -> {
                    if (r > 4) {
                        p.add(where + ": rank " + r + " > 4");
                    }
                }
                case "Resize" -> {
                    expect(p, where, a, "mode", "nearest");
                    expect(p, where, a, "nearest_mode", "floor");
                    expect(p, where, a, "coordinate_transformation_mode", "asymmetric");
                }
                default -> {
                }
            }
        }
        return p;
    }

    private static void expect(List<String> p, String where, Map<String, AttributeProto> a, String name, String v) {
        String got = a.containsKey(name) ? a.get(name).getS().toStringUtf8() : "(default)";
        if (!got.equals(v)) {
            p.add(where + ": " + name + " is " + got + ", HTP needs " + v);
        }
    }

    /** Checks encodings JSON against the graph it is for. */
    static List<String> encodings(ModelProto m, String json) {
        List<String> p = new ArrayList<>();
        JsonObject root;
        try {
            root = JsonParser.parseString(json).getAsJsonObject();
        } catch (RuntimeException e) {
            return List.of("encodings: not a JSON object (" + e.getMessage() + ")");
        }
        String version = root.has("version") ? root.get("version").getAsString() : "";
        Set<String> acts = new HashSet<>();
        m.getGraph().getInputList().forEach(v -> acts.add(v.getName()));
        Set<String> fusedInside = new HashSet<>();
        Map<String, NodeProto> producer = new HashMap<>();
        for (NodeProto n : m.getGraph().getNodeList()) {
            acts.addAll(n.getOutputList());
            n.getOutputList().forEach(o -> producer.put(o, n));
        }
        // GroupNorm pattern: Reshape → InstanceNormalization → Reshape → Mul; only the final Add may be encoded
        for (NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("InstanceNormalization")) {
                fusedInside.add(n.getInput(0));
                fusedInside.add(n.getOutput(0));
            }
            if (n.getOpType().equals("Reshape") && producer.containsKey(n.getInput(0))
                    && producer.get(n.getInput(0)).getOpType().equals("InstanceNormalization")) {
                fusedInside.add(n.getOutput(0));
                for (NodeProto c : m.getGraph().getNodeList()) {
                    if (c.getOpType().equals("Mul") && c.getInputList().contains(n.getOutput(0))) {
                        fusedInside.add(c.getOutput(0));
                    }
                }
            }
        }
        Map<String, Long> outChannels = new HashMap<>();
        for (TensorProto t : m.getGraph().getInitializerList()) {
            outChannels.put(t.getName(), t.getDimsCount() > 0 ? t.getDims(0) : 1);
        }
        if (!root.has("activation_encodings") || !root.has("param_encodings")) {
            p.add("encodings: activation_encodings and param_encodings must both exist");
            return p;
        }
        switch (version) {
            case "0.6.1" -> {
                for (Map.Entry<String, JsonElement> e : root.getAsJsonObject("activation_encodings").entrySet()) {
                    check061(p, e.getKey(), e.getValue().getAsJsonArray(), acts, fusedInside, null);
                }
                for (Map.Entry<String, JsonElement> e : root.getAsJsonObject("param_encodings").entrySet()) {
                    check061(p, e.getKey(), e.getValue().getAsJsonArray(), outChannels.keySet(), Set.of(),
                            outChannels.get(e.getKey()));
                }
            }
            case "1.0.0" -> {
                for (JsonElement e : root.getAsJsonArray("activation_encodings")) {
                    check100(p, e.getAsJsonObject(), acts, fusedInside, null);
                }
                for (JsonElement e : root.getAsJsonArray("param_encodings")) {
                    JsonObject o = e.getAsJsonObject();
                    check100(p, o, outChannels.keySet(), Set.of(),
                            outChannels.get(o.has("name") ? o.get("name").getAsString() : ""));
                }
            }
            default -> p.add("encodings: version " + version + ", expected 0.6.1 or 1.0.0");
        }
        return p;
    }

    private static void check061(List<String> p, String name, JsonArray entries, Set<String> names,
            Set<String> fusedInside, Long channels) {
        String where = "encoding " + name;
        if (!names.contains(name)) {
            p.add(where + ": no such tensor in the graph");
        }
        if (fusedInside.contains(name)) {
            p.add(where + ": inside a GroupNorm pattern; an override there blocks the converter's fusion");
        }
        if (entries.size() > 1 && channels != null && entries.size() != channels) {
            p.add(where + ": " + entries.size() + " per-channel entries for " + channels + " output channels");
        }
        for (JsonElement el : entries) {
            JsonObject e = el.getAsJsonObject();
            if (!e.has("bitwidth")) {
                p.add(where + ": bitwidth missing");
                continue;
            }
            int bw = e.get("bitwidth").getAsInt();
            if (bw != 8 && bw != 16) {
                p.add(where + ": bitwidth " + bw + " (the quantizer accepts 8 or 16)");
            }
            for (String k : List.of("is_symmetric", "dtype")) {
                if (e.has(k) && !(e.get(k) instanceof JsonPrimitive jp && jp.isString())) {
                    p.add(where + ": " + k + " must be a string in 0.6.1 (\"True\"/\"False\", \"int\"/\"float\")");
                }
            }
            boolean sym = e.has("is_symmetric") && e.get("is_symmetric").getAsString().equals("True");
            if (e.has("min") != e.has("max") || e.has("scale") != e.has("offset")) {
                p.add(where + ": min/max and scale/offset come in pairs");
            }
            if (entries.size() > 1 && !sym) {
                p.add(where + ": per-channel encodings must be symmetric");
            }
            if (e.has("offset")) {
                checkOffset(p, where, bw, sym, e.get("offset").getAsLong());
            }
        }
    }

    private static void check100(List<String> p, JsonObject e, Set<String> names, Set<String> fusedInside,
            Long channels) {
        String name = e.has("name") ? e.get("name").getAsString() : "?";
        String where = "encoding " + name;
        if (!names.contains(name)) {
            p.add(where + ": no such tensor in the graph");
        }
        if (fusedInside.contains(name)) {
            p.add(where + ": inside a GroupNorm pattern; an override there blocks the converter's fusion");
        }
        if (!e.has("dtype") || !e.get("dtype").getAsString().equals("INT")) {
            p.add(where + ": \"dtype\": \"INT\" missing (QAIRT reads an entry without it as float)");
        }
        if (!(e.get("is_sym") instanceof JsonPrimitive jp && jp.isBoolean())) {
            p.add(where + ": is_sym must be a JSON bool in 1.0.0");
            return;
        }
        boolean sym = e.get("is_sym").getAsBoolean();
        int bw = e.has("bw") ? e.get("bw").getAsInt() : -1;
        if (bw != 8 && bw != 16) {
            p.add(where + ": bw " + bw + " (the quantizer accepts 8 or 16)");
        }
        JsonArray s = e.getAsJsonArray("scale");
        JsonArray o = e.getAsJsonArray("offset");
        if (s == null || o == null || s.size() != o.size()) {
            p.add(where + ": scale and offset must be arrays of equal length");
            return;
        }
        String type = e.has("enc_type") ? e.get("enc_type").getAsString() : "";
        if (type.equals("PER_CHANNEL")) {
            if (!sym) {
                p.add(where + ": PER_CHANNEL must be symmetric");
            }
            if (channels != null && s.size() != channels) {
                p.add(where + ": " + s.size() + " per-channel entries for " + channels + " output channels");
            }
        } else if (s.size() != 1) {
            p.add(where + ": " + type + " with " + s.size() + " scales");
        }
        for (JsonElement off : o) {
            checkOffset(p, where, bw, sym, off.getAsLong());
        }
    }

    private static void checkOffset(List<String> p, String where, int bw, boolean sym, long offset) {
        if (offset > 0) {
            p.add(where + ": offset " + offset + " > 0 (QNN reads offsets as −|offset|)");
        }
        if (sym && offset != 0 && offset != -(1L << (bw - 1))) {
            p.add(where + ": symmetric offset " + offset + " must be 0 or " + -(1L << (bw - 1)));
        }
    }
}

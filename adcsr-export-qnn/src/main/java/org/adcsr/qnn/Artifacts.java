package org.adcsr.qnn;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.onnx.Graph;
import org.adcsr.onnx.OnnxExport;

/** The small text artifacts of an export: HTP backend config, {@code commands.sh}, {@code manifest.json}. */
final class Artifacts {
    /** SM8750 (Snapdragon 8 Elite): soc_model 69, Hexagon v79, 8 MB VTCM (QNN.md §6). */
    static final int SOC_MODEL = 69;
    static final String DSP_ARCH = "v79";

    private Artifacts() {
    }

    static void htp(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("htp"));
        Files.writeString(dir.resolve("htp/htp_ext.json"), """
                {"backend_extensions": {"shared_library_path": "libQnnHtpNetRunExtensions.so", \
                "config_file_path": "htp/htp_v79.json"}}
                """);
        Files.writeString(dir.resolve("htp/htp_v79.json"), """
                {"graphs":  [{"graph_names": ["adcsr"], "vtcm_mb": 8, "O": 3}],
                 "devices": [{"soc_model": %d, "dsp_arch": "%s", "cores": [{"perf_profile": "burst", \
                "rpc_control_latency": 100}]}]}
                """.formatted(SOC_MODEL, DSP_ARCH));
    }

    static void commands(Path dir, int tile, boolean qdq) throws IOException {
        String s = """
                #!/usr/bin/env bash
                # Converts this export with the Qualcomm AI Engine Direct SDK (QNN/QAIRT) for SM8750 (HTP v79), W8A16.
                # Written by adcsr-export-qnn; the SDK is not needed to write it, only to run it. Needs QNN_SDK_ROOT.
                # Usage: ./commands.sh qairt   (DLC path, recommended; keeps NCHW input)
                #        ./commands.sh legacy  (qnn-onnx-converter; NHWC input unless --preserve_io layout)
                set -euo pipefail
                HERE="$(cd "$(dirname "$0")" && pwd)"
                cd "$HERE"
                : "${QNN_SDK_ROOT:?set QNN_SDK_ROOT to the SDK}"
                mkdir -p build
                # input lists need absolute paths: rewrite them for wherever this directory now is
                for f in calib/*.raw; do echo "$HERE/$f"; done > calib/input_list.txt
                for f in calib/nhwc/*.raw; do echo "$HERE/$f"; done > calib/input_list_nhwc.txt

                case "${1:-qairt}" in
                qairt)
                  qairt-converter --input_network adcsr.onnx --quantization_overrides adcsr.encodings \\
                    --output_path build/adcsr_fp.dlc --onnx_no_simplification
                  qairt-quantizer --input_dlc build/adcsr_fp.dlc --output_dlc build/adcsr_w8a16.dlc \\
                    --input_list "$HERE/calib/input_list.txt" --act_bitwidth 16 --weights_bitwidth 8 --bias_bitwidth 32 \\
                    --use_per_channel_quantization
                  qnn-context-binary-generator --model libQnnModelDlc.so --backend libQnnHtp.so \\
                    --dlc_path build/adcsr_w8a16.dlc --binary_file adcsr_sm8750 --output_dir build/ctx \\
                    --config_file htp/htp_ext.json
                  ;;
                legacy)
                  # QNN <= 2.13 spells the bitwidth flags --act_bw/--weight_bw/--bias_bw
                  qnn-onnx-converter --input_network adcsr.onnx --input_dim lr 1,3,%1$d,%1$d \\
                    --input_list "$HERE/calib/input_list.txt" --act_bitwidth 16 --weights_bitwidth 8 --bias_bitwidth 32 \\
                    --quantization_overrides adcsr.encodings --use_per_channel_quantization --no_simplification \\
                    --preserve_io layout lr sr -o build/adcsr.cpp
                  qnn-model-lib-generator -c build/adcsr.cpp -b build/adcsr.bin -t x86_64-linux-clang -l adcsr -o build/libs
                  qnn-context-binary-generator --backend "$QNN_SDK_ROOT/lib/x86_64-linux-clang/libQnnHtp.so" \\
                    --model build/libs/x86_64-linux-clang/libadcsr.so --binary_file adcsr_sm8750 --output_dir build/ctx \\
                    --config_file htp/htp_ext.json
                  ;;
                *) echo "usage: $0 [qairt|legacy]" >&2; exit 2 ;;
                esac

                # On the device (push libQnnHtp.so, libQnnSystem.so, libQnnHtpV79Stub.so,
                # hexagon-v79/unsigned/libQnnHtpV79Skel.so, qnn-net-run, build/ctx/adcsr_sm8750.bin and the inputs):
                #   LD_LIBRARY_PATH=. ADSP_LIBRARY_PATH=. ./qnn-net-run --backend libQnnHtp.so \\
                #     --retrieve_context adcsr_sm8750.bin --input_list input_list.txt --output_dir out
                # Outputs: out/Result_<i>/sr.raw, float32 [1,3,%2$d,%2$d]; compare with golden/<i>.raw (ONNX Runtime CPU).
                """.formatted(tile, 4 * tile);
        Path f = dir.resolve("commands.sh");
        Files.writeString(f, s);
        try {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system: run it with bash
        }
    }

    static void manifest(Path dir, AdcsrConfig config, int tile, long[] in, long[] out, QnnExporter.Options o,
            Encodings enc, int activations, List<String> flagged, Graph g, List<QnnExporter.SimRow> sim)
            throws IOException {
        JsonObject m = new JsonObject();
        m.addProperty("format", "adcsr-qnn-export/1");
        m.addProperty("producer", "adcsr-export-qnn " + Graph.version());
        m.addProperty("config", config.name());
        m.addProperty("weights", o.weights());
        m.add("architecture", com.google.gson.JsonParser.parseString(config.toJson()));
        m.addProperty("target", "Snapdragon 8 Elite (SM8750), Hexagon v79 HTP, soc_model " + SOC_MODEL);
        m.addProperty("precision", "W8A16: weights int8 symmetric (per channel for Conv, per tensor for MatMul), "
                + "activations uint16 asymmetric, bias 32-bit by --bias_bitwidth 32 (no bias encodings)");
        JsonObject onnx = new JsonObject();
        onnx.addProperty("file", QnnExporter.ONNX);
        onnx.addProperty("external_data", QnnExporter.ONNX + ".data");
        onnx.addProperty("opset", OnnxExport.FLOAT.opset());
        onnx.addProperty("ir_version", OnnxExport.FLOAT.ir());
        onnx.addProperty("graph_name", "adcsr");
        onnx.addProperty("nodes", g.nodes.size());
        onnx.addProperty("initializers", g.inits.size());
        m.add("onnx", onnx);
        m.add("input", io(OnnxExport.INPUT, in, "RGB in [-1, 1] (8-bit v -> v/127.5 - 1)"));
        m.add("output", io(OnnxExport.OUTPUT, out, "RGB in about [-1, 1] (clamp, then (v + 1)·127.5)"));
        m.addProperty("tile", tile);
        m.addProperty("scale", 4);
        m.addProperty("cpu_side", "The colour fix (AdaIN/wavelet colour correction, ADCSR.md §4) and the [-1, 1] <-> "
                + "8-bit conversions stay on the CPU, outside the graph; tiles and their blending too.");
        JsonObject graph = new JsonObject();
        graph.addProperty("pixel_unshuffle", "SpaceToDepth(2); unet.conv_in.weight input channels permuted: "
                + "s2d[(i*2+j)*C + c] = pixel_unshuffle[c*4 + i*2 + j]");
        graph.addProperty("group_norm", "Reshape[1,G,-1] -> InstanceNormalization(1, 0, eps) -> Reshape -> Mul gamma "
                + "-> Add beta (gamma, beta stored [C,1,1]); only the Add output is encoded");
        graph.addProperty("linear", "MatMul with the weight stored transposed [in, out] under its checkpoint key, "
                + "then Add bias");
        graph.addProperty("gelu", "erf formula (Div, Erf, Add, Mul, Mul); the converter infers Gelu");
        graph.addProperty("attention", "Reshape/Transpose to [1,heads,N,d], MatMul, Softmax(axis -1), MatMul; "
                + "rank <= 4");
        graph.addProperty("upsample", "Resize(nearest, asymmetric, floor)");
        graph.addProperty("names", "initializers: checkpoint keys; op outputs: module names; derived values: "
                + "module/suffix");
        m.add("graph", graph);
        JsonObject e = new JsonObject();
        e.addProperty("file", QnnExporter.ENCODINGS);
        e.addProperty("version", o.format().version);
        e.addProperty("activations", enc.activations.size());
        e.addProperty("params", enc.params.size());
        e.addProperty("calibration_images", o.calib().size());
        e.addProperty("fixed_ranges", "Sigmoid and Softmax outputs: uint16 scale 1/65536, offset 0");
        e.addProperty("not_encoded", "tensors inside the GroupNorm and GELU patterns, Reshape/Transpose/Resize/Split/"
                + "SpaceToDepth outputs (they keep their input's encoding), norm weights and biases (the quantizer "
                + "handles them)");
        m.add("encodings", e);
        JsonObject calib = new JsonObject();
        calib.addProperty("input_list", "calib/input_list.txt");
        calib.addProperty("layout", "NCHW float32 little-endian, no header; for qairt-converter and for "
                + "qnn-onnx-converter with --preserve_io layout");
        calib.addProperty("input_list_nhwc", "calib/input_list_nhwc.txt");
        calib.addProperty("layout_nhwc", "NHWC float32 little-endian; for qnn-onnx-converter without --preserve_io");
        calib.addProperty("paths", "absolute, for the final directory; commands.sh rewrites them if it moved");
        calib.addProperty("golden", "golden/<i>.raw: ONNX Runtime CPU output of the float graph, NCHW float32");
        m.add("calibration", calib);
        if (o.qdq()) {
            JsonObject q = new JsonObject();
            q.addProperty("file", QnnExporter.QDQ);
            q.addProperty("opset", Qdq.VERSION.opset());
            q.addProperty("ir_version", Qdq.VERSION.ir());
            q.addProperty("content", "int8 weights through DequantizeLinear (axis 0 per channel, zero point 0); "
                    + "uint16 QuantizeLinear/DequantizeLinear after every encoded activation");
            m.add("qdq", q);
        }
        m.add("htp", com.google.gson.JsonParser.parseString(
                "{\"ext\": \"htp/htp_ext.json\", \"config\": \"htp/htp_v79.json\", \"soc_model\": " + SOC_MODEL
                        + ", \"dsp_arch\": \"" + DSP_ARCH + "\", \"vtcm_mb\": 8}"));
        m.addProperty("commands", "commands.sh (qairt | legacy)");
        JsonArray wide = new JsonArray();
        flagged.forEach(wide::add);
        m.add("wide_range_tensors", wide);
        m.addProperty("ranges", "ranges.csv");
        if (!sim.isEmpty()) {
            m.add("simulation", QnnExporter.GSON.toJsonTree(sim));
        }
        m.addProperty("sdk_assumptions", "QNN >= 2.2x (GroupNorm fusion, --act_bitwidth spelling) or QAIRT 2.25+; "
                + "on-device latency is not measured by this tool");
        Files.writeString(dir.resolve("manifest.json"), QnnExporter.GSON.toJson(m) + "\n");
    }

    private static JsonObject io(String name, long[] shape, String range) {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        JsonArray s = new JsonArray();
        for (long d : shape) {
            s.add(d);
        }
        o.add("shape", s);
        o.addProperty("dtype", "float32");
        o.addProperty("layout", "NCHW");
        o.addProperty("range", range);
        return o;
    }
}

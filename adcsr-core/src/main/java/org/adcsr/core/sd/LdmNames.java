package org.adcsr.core.sd;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of the original LDM / single-file SD checkpoints ({@code v2-1_512-ema-pruned.safetensors|.ckpt}) for the
 * diffusers names of {@link SdLayout} (CHECKPOINTS.md §6). Mapping diffusers → LDM, one name at a time, lets the
 * loader ask for exactly the tensors it needs.
 */
public final class LdmNames {
    /** Prefix of the UNet in a single-file checkpoint (after any outer {@code state_dict.}). */
    public static final String UNET_PREFIX = "model.diffusion_model.";
    /** Prefix of the VAE in a single-file checkpoint. */
    public static final String VAE_PREFIX = "first_stage_model.";

    private static final Pattern DOWN = Pattern.compile("down_blocks\\.(\\d+)\\.(resnets|attentions)\\.(\\d+)\\.(.*)");
    private static final Pattern DOWNSAMPLE = Pattern.compile("down_blocks\\.(\\d+)\\.downsamplers\\.0\\.conv\\.(.*)");
    private static final Pattern UP = Pattern.compile("up_blocks\\.(\\d+)\\.(resnets|attentions)\\.(\\d+)\\.(.*)");
    private static final Pattern UPSAMPLE = Pattern.compile("up_blocks\\.(\\d+)\\.upsamplers\\.0\\.conv\\.(.*)");
    private static final Pattern MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.*)");

    private static final Pattern VAE_DOWN = Pattern.compile("encoder\\.down_blocks\\.(\\d+)\\.resnets\\.(\\d+)\\.(.*)");
    private static final Pattern VAE_DOWNSAMPLE =
            Pattern.compile("encoder\\.down_blocks\\.(\\d+)\\.downsamplers\\.0\\.conv\\.(.*)");
    private static final Pattern VAE_UP = Pattern.compile("decoder\\.up_blocks\\.(\\d+)\\.resnets\\.(\\d+)\\.(.*)");
    private static final Pattern VAE_UPSAMPLE =
            Pattern.compile("decoder\\.up_blocks\\.(\\d+)\\.upsamplers\\.0\\.conv\\.(.*)");
    private static final Pattern VAE_MID = Pattern.compile("(encoder|decoder)\\.mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.*)");

    private LdmNames() {
    }

    /** LDM name (without {@link #UNET_PREFIX}) of a diffusers UNet tensor; {@code c} gives the block layout. */
    public static String unet(String d, SdConfig c) {
        int layers = c.unetLayers();
        Matcher m;
        if (d.startsWith("time_embedding.linear_1.")) {
            return "time_embed.0." + rest(d, "time_embedding.linear_1.");
        }
        if (d.startsWith("time_embedding.linear_2.")) {
            return "time_embed.2." + rest(d, "time_embedding.linear_2.");
        }
        if (d.startsWith("conv_in.")) {
            return "input_blocks.0.0." + rest(d, "conv_in.");
        }
        if (d.startsWith("conv_norm_out.")) {
            return "out.0." + rest(d, "conv_norm_out.");
        }
        if (d.startsWith("conv_out.")) {
            return "out.2." + rest(d, "conv_out.");
        }
        if ((m = DOWN.matcher(d)).matches()) {
            int n = (layers + 1) * Integer.parseInt(m.group(1)) + Integer.parseInt(m.group(3)) + 1;
            return "input_blocks." + n + (m.group(2).equals("resnets") ? ".0." + resnet(m.group(4)) : ".1." + m.group(4));
        }
        if ((m = DOWNSAMPLE.matcher(d)).matches()) {
            int n = (layers + 1) * (Integer.parseInt(m.group(1)) + 1);
            return "input_blocks." + n + ".0.op." + m.group(2);
        }
        if ((m = MID.matcher(d)).matches()) {
            int i = Integer.parseInt(m.group(2));
            return m.group(1).equals("resnets")
                    ? "middle_block." + (2 * i) + "." + resnet(m.group(3))
                    : "middle_block.1." + m.group(3);
        }
        if ((m = UP.matcher(d)).matches()) {
            int n = (layers + 1) * Integer.parseInt(m.group(1)) + Integer.parseInt(m.group(3));
            return "output_blocks." + n + (m.group(2).equals("resnets") ? ".0." + resnet(m.group(4)) : ".1." + m.group(4));
        }
        if ((m = UPSAMPLE.matcher(d)).matches()) {
            int b = Integer.parseInt(m.group(1));
            int n = (layers + 1) * b + layers;
            boolean attention = c.unetAttention()[c.unetWidths().length - 1 - b];
            return "output_blocks." + n + (attention ? ".2" : ".1") + ".conv." + m.group(2);
        }
        throw new IllegalArgumentException("no LDM name for UNet tensor " + d);
    }

    private static String resnet(String part) {
        for (String[] r : new String[][] {
            {"norm1.", "in_layers.0."}, {"conv1.", "in_layers.2."}, {"time_emb_proj.", "emb_layers.1."},
            {"norm2.", "out_layers.0."}, {"conv2.", "out_layers.3."}, {"conv_shortcut.", "skip_connection."}}) {
            if (part.startsWith(r[0])) {
                return r[1] + part.substring(r[0].length());
            }
        }
        throw new IllegalArgumentException("not a resnet tensor: " + part);
    }

    /** LDM names (without {@link #VAE_PREFIX}) of a diffusers VAE tensor. */
    public static String vae(String d, SdConfig c) {
        int n = c.vaeWidths().length;
        Matcher m;
        if ((m = VAE_DOWN.matcher(d)).matches()) {
            return "encoder.down." + m.group(1) + ".block." + m.group(2) + "." + vaeResnet(m.group(3));
        }
        if ((m = VAE_DOWNSAMPLE.matcher(d)).matches()) {
            return "encoder.down." + m.group(1) + ".downsample.conv." + m.group(2);
        }
        if ((m = VAE_UP.matcher(d)).matches()) {
            return "decoder.up." + (n - 1 - Integer.parseInt(m.group(1))) + ".block." + m.group(2) + "."
                    + vaeResnet(m.group(3));
        }
        if ((m = VAE_UPSAMPLE.matcher(d)).matches()) {
            return "decoder.up." + (n - 1 - Integer.parseInt(m.group(1))) + ".upsample.conv." + m.group(2);
        }
        if ((m = VAE_MID.matcher(d)).matches()) {
            String part = m.group(1) + ".mid.";
            if (m.group(2).equals("resnets")) {
                return part + "block_" + (Integer.parseInt(m.group(3)) + 1) + "." + vaeResnet(m.group(4));
            }
            return part + "attn_1." + attention(m.group(4), List.of("norm", "q", "k", "v", "proj_out"));
        }
        for (String s : new String[] {"encoder.", "decoder."}) {
            if (d.startsWith(s + "conv_norm_out.")) {
                return s + "norm_out." + rest(d, s + "conv_norm_out.");
            }
        }
        return d; // conv_in, conv_out, quant_conv, post_quant_conv
    }

    /** The older diffusers spelling of a VAE mid-block attention tensor ({@code query}, …), or null. */
    public static String oldDiffusersVae(String d) {
        int i = d.indexOf(".mid_block.attentions.0.");
        if (i < 0) {
            return null;
        }
        String head = d.substring(0, i + ".mid_block.attentions.0.".length());
        String part = d.substring(head.length());
        String old = attention(part, List.of("group_norm", "query", "key", "value", "proj_attn"));
        return old.equals(part) ? null : head + old;
    }

    /** Renames {@code group_norm|to_q|to_k|to_v|to_out.0} + suffix to the given five names. */
    private static String attention(String part, List<String> names) {
        String[] ours = {"group_norm.", "to_q.", "to_k.", "to_v.", "to_out.0."};
        for (int i = 0; i < ours.length; i++) {
            if (part.startsWith(ours[i])) {
                return names.get(i) + "." + part.substring(ours[i].length());
            }
        }
        return part;
    }

    private static String vaeResnet(String part) {
        return part.startsWith("conv_shortcut.") ? "nin_shortcut." + rest(part, "conv_shortcut.") : part;
    }

    private static String rest(String s, String prefix) {
        return s.substring(prefix.length());
    }
}

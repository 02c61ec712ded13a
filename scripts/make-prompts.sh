#!/bin/sh
# Regenerates the IVR prompts in cascade/assets/prompts/ (Chinese first, then English) with
# espeak-ng's Mandarin voice; Opus in Ogg, 16 kbit/s (the SIP leg's ffmpeg transcodes them to the
# call's codec). Needs: apt-get install espeak-ng ffmpeg.
set -eu
out="$(dirname "$0")/../cascade/assets/prompts"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prompt() {
  espeak-ng -v cmn -s 150 -w "$tmp/$1.wav" "$2"
  ffmpeg -hide_banner -loglevel error -y -i "$tmp/$1.wav" -ar 16000 -ac 1 -c:a libopus -b:a 16k -application voip "$out/$1.opus"
}
prompt enter-meeting-number '请输入会议号，以井号键结束。Please enter the meeting number, then press hash.'
prompt wrong-meeting-number '会议号不正确，请重新输入。The meeting number is not valid, please try again.'
prompt enter-pin '请输入会议密码，以井号键结束。Please enter the meeting PIN, then press hash.'
prompt joining '正在进入会议，请稍候。Joining the meeting.'
prompt meeting-not-started '会议尚未开始或已结束。The meeting has not started or has ended.'

from django import forms
from django.utils.translation import gettext_lazy as _


class AddClusterForm(forms.Form):
    name = forms.SlugField(label=_("Name"), max_length=100, required=False,
                           help_text=_("Defaults to the context name."))
    kubeconfig = forms.CharField(label=_("Kubeconfig"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
                                 help_text=_("Paste a kubeconfig, or upload the file below."))
    kubeconfig_file = forms.FileField(label=_("Kubeconfig file"), required=False)
    context = forms.CharField(label=_("Context"), max_length=255, required=False,
                              help_text=_("Needed when the kubeconfig has several contexts."))

    MAX_FILE_BYTES = 1024 * 1024

    def clean(self):
        data = super().clean()
        upload = data.get("kubeconfig_file")
        if upload:
            if upload.size > self.MAX_FILE_BYTES:
                raise forms.ValidationError(_("The kubeconfig file is larger than 1 MiB."))
            try:
                data["kubeconfig"] = upload.read().decode()
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The kubeconfig file is not text."))
        if not data.get("kubeconfig"):
            raise forms.ValidationError(_("Paste a kubeconfig or upload one."))
        return data


class ImportContextForm(forms.Form):
    source = forms.CharField(widget=forms.HiddenInput)
    context = forms.CharField(widget=forms.HiddenInput)
    name = forms.SlugField(label=_("Name"), max_length=100, required=False)


class PodLogForm(forms.Form):
    container = forms.CharField(label=_("Container"), max_length=253, required=False, widget=forms.Select)
    tail = forms.IntegerField(label=_("Last lines"), min_value=1, max_value=100000, initial=500, required=False)
    since = forms.IntegerField(label=_("Since (seconds)"), min_value=1, required=False)
    previous = forms.BooleanField(label=_("Previous container"), required=False)


class ApplyForm(forms.Form):
    text = forms.CharField(label=_("YAML"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}))
    file = forms.FileField(label=_("or a file"), required=False)

    MAX_BYTES = 2 * 1024 * 1024

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > self.MAX_BYTES:
                raise forms.ValidationError(_("The file is larger than 2 MiB."))
            try:
                data["text"] = upload.read().decode()
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text."))
        if not data.get("text", "").strip():
            raise forms.ValidationError(_("Paste YAML or upload a file."))
        return data
